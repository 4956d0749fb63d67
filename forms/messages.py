"""The words of every domain refusal, by code: the Babel msgids that pages and form validators show.

They live here, not in webapp, because WTForms validators show domain refusals too and forms may
import only the domain; ``webapp.messages`` adds the engine's codes and explains every error.
"""

from flask_babel import lazy_gettext as _l

DOMAIN_MESSAGES = {
    # domain.identity: resident ID card numbers
    "empty": _l("Please type the ID card number."),
    "characters": _l(
        "Character %(position)d of the ID card number ('%(char)s') is not allowed: type only half-width "
        "digits 0-9, and a capital X as the last character if your card has one "
        "(switch the input method to half-width)."
    ),
    "lowercase_x": _l("The last character of the ID card number is a capital X: please type X, not x."),
    "length": _l(
        "An ID card number has 18 characters, you typed %(length)d. Old 15-digit numbers are no "
        "longer used: please type the 18-digit number on your current card."
    ),
    "checksum": _l(
        "The ID card number does not add up (its last character is a check digit): "
        "please check each digit for a typing error."
    ),
    "birth_date": _l(
        "The birth date in the ID card number (%(birth_date)s) is not possible: "
        "it must be a real date between 1900-01-01 and today."
    ),
    "area_code_unknown": _l(
        "The first 6 digits of the ID card number are not a known area code: "
        "please check them (a recently changed code may be correct)."
    ),
    # domain.identity: unified social credit codes
    "credit_empty": _l("Please type the unified social credit code."),
    "credit_characters": _l(
        "Character %(position)d of the unified social credit code ('%(char)s') is not allowed: it uses "
        "half-width digits and capital letters except I, O, Z, S and V, and positions 3-8 are digits."
    ),
    "credit_lowercase": _l(
        "The unified social credit code uses capital letters: character %(position)d ('%(char)s') "
        "is lowercase."
    ),
    "credit_length": _l("A unified social credit code has 18 characters, you typed %(length)d."),
    "credit_checksum": _l(
        "The unified social credit code does not add up (its last character is a check character): "
        "please check each character for a typing error."
    ),
    # domain.courses
    "course_filer_kind": _l("Only a training institution or an industry authority files courses."),
    "course_filer_inactive": _l("%(name)s is not active yet, so it cannot file courses."),
    "course_filer_admin": _l("Only the unit admin of the organisation files its courses."),
    "course_title_empty": _l("Please type the course title."),
    "course_subject": _l("The subject type must be public or professional, not %(value)s."),
    "course_mode": _l("The mode must be online or face-to-face, not %(value)s."),
    "course_authority_public": _l(
        "An industry authority files professional subjects only; public subjects are filed by institutions."
    ),
    "course_industry_required": _l("A professional subject names its industry."),
    "course_hours": _l("A course gives 1 to %(high)d hours, not %(value)d."),
    "course_fee": _l("The fee %(value)s is not a valid amount (0 to 10 000 yuan a person)."),
    "course_year": _l("A course is filed for this year or the next (%(low)d or %(high)d), not %(value)d."),
    "course_supersede": _l("Only an approved course of your own can be changed by a new filing."),
    "course_retire_reason": _l("Please say why the course leaves the catalogue."),
    "course_not_in_catalogue": _l("This course is not in the catalogue, or you may not take it out."),
    # domain.courses.enrolment
    "enrol_course_closed": _l(
        "This course is not in the catalogue (not approved, or taken out), so no one can enrol in it."
    ),
    "enrol_course_past": _l("This course belongs to %(year)d, a year that has ended."),
    "enrol_not_a_person": _l("Only a registered, active professional enrols themselves."),
    "enrol_already": _l("You are already enrolled in %(title)s."),
    "enrol_race": _l(
        "The same enrolment was made at the same moment; nothing was doubled. Please look at the "
        "enrolments and try again if needed."
    ),
    "enrol_not_employer_hr": _l("Only an employer's HR staff enrol its persons."),
    "enrol_none_chosen": _l("Choose at least one person to enrol."),
    "enrol_too_many": _l("%(count)d persons are more than one order takes (%(limit)d); split them."),
    "enrol_not_own_persons": _l(
        "%(count)d of the chosen persons are not active persons of your organisation."
    ),
    "enrol_not_institution": _l(
        "Only the institution that filed the course records its payments and invoices."
    ),
    "enrol_not_found": _l("These enrolments were not found, or you may not act on them."),
    "payment_method": _l("The payment method must be bank transfer or online, not %(value)s."),
    "invoice_title_empty": _l("Please type the invoice title."),
    "invoice_not_requested": _l("No invoice was requested for some of these enrolments."),
    "invoice_unpaid": _l("Some of these enrolments are not paid yet; an invoice follows the payment."),
    "invoice_number_empty": _l("Please type the invoice number."),
    # domain.courses.scores and score_files: score submission (R8)
    "score_file_too_large": _l(
        "The file is %(size)s MB; a score file may be at most %(limit)s MB. Split it into several files."
    ),
    "score_file_empty": _l("The file is empty: it has no header row or no result rows."),
    "score_file_old_excel": _l(
        "This is an old Excel file (.xls): please save it as .xlsx or CSV and upload it again."
    ),
    "score_file_too_many_rows": _l(
        "The file has more than %(limit)s result rows; split it into several files."
    ),
    "score_headers": _l(
        "The header row is not as required. Missing: %(missing)s. Not expected: %(unexpected)s. "
        "The headers are: %(expected)s."
    ),
    "score_file_not_spreadsheet": _l(
        "This file is not a spreadsheet: upload an Excel .xlsx file or a CSV file."
    ),
    "score_file_encoding": _l("The CSV file is neither UTF-8 nor GBK text: save it again as CSV (UTF-8)."),
    "score_name_empty": _l("The name is empty."),
    "score_score": _l("The score '%(value)s' is empty or longer than 16 characters."),
    "score_passed": _l("'%(value)s' is not a pass mark: write 是, 否, 合格 or 不合格."),
    "score_hours_number": _l("The hours '%(value)s' are not a whole number."),
    "score_date_format": _l("The date '%(value)s' is not a date: write it as 2025-06-30."),
    "score_formula": _l("Cell %(cell)s holds a formula: copy the column and paste it as values."),
    "score_merged": _l("Cells %(cells)s are merged: unmerge them and fill in every row."),
    "score_report_more": _l("%(count)s more problems are not listed: correct these first."),
    "score_course_not_found": _l("This course was not found among your institution's courses."),
    "score_course_not_approved": _l("Scores are submitted only for a course whose filing was approved."),
    "score_not_institution": _l(
        "Only the unit admin of the institution that filed the course submits its scores."
    ),
    "score_no_calendar": _l(
        "No policy calendar is set for %(year)s, so the training deadline is unknown: "
        "ask the city HRSS to set it."
    ),
    "score_duplicate_row": _l("This ID number already appears in row %(first)s."),
    "score_unknown_person": _l("No registered professional has this ID number."),
    "score_name_mismatch": _l("The name %(name)s does not match the name registered for this ID number."),
    "score_not_enrolled": _l("This person is not enrolled in %(title)s."),
    "score_hours_high": _l("%(value)s hours are more than the course gives (%(high)s)."),
    "score_date_year": _l("The date %(day)s is not in the course's year %(year)s."),
    "score_date_cut_off": _l("The date %(day)s is after the year's online training deadline (%(cut_off)s)."),
    "score_date_future": _l("The date %(day)s has not come yet."),
    "score_file_duplicate": _l(
        "The same file was already submitted (submission %(submission)s) and is pending or credited."
    ),
    "score_nothing_new": _l(
        "Every person in this file was already credited (%(skipped)s rows): nothing is new."
    ),
    "score_not_pending": _l("This score submission is no longer waiting for a decision."),
    "score_token_not_institution": _l(
        "Organisation %(org)s is not a training institution; API tokens are for institutions."
    ),
    "score_rows_refused": _l(
        "The file was refused as a whole: %(count)s problems. Download the error report, "
        "correct the rows and upload it again."
    ),
    "score_not_returned": _l("This step does not take a corrected score file."),
    "score_api_no_results": _l("Send a non-empty list of results."),
    "score_api_too_many": _l("At most %(limit)s results in one call."),
    "score_api_race": _l(
        "The same results are being received by another call right now; send them again in a moment."
    ),
    "score_no_unit_admin": _l("The institution has no unit admin to submit its scores."),
    "score_api_not_object": _l("Each result is an object."),
    "score_api_result_id": _l("Each result carries a result_id of 1 to 64 characters."),
    "score_duplicate_result": _l("This result_id already appears in result %(first)s."),
    # domain.registration
    "no_region": _l("Region %(region)s does not exist."),
    "credit_code_taken": _l("An organisation with the credit code %(code)s is already registered."),
    "not_your_application": _l("Only the organisation's own unit admin corrects its application."),
    "not_your_registration": _l("Only the professional themselves corrects their registration."),
    "application_closed": _l("This application has ended; it can no longer be corrected."),
    "unknown_kind": _l(
        "Choose the kind of organisation: employer, industry authority or training institution."
    ),
    "hrss_by_level_above": _l("An HRSS is registered by the active HRSS of the level above it."),
    "hrss_not_active": _l("The HRSS of %(region)s has not registered yet; it must be active first."),
    "no_authority": _l("An employer names the industry authority it belongs to."),
    "authority_not_active": _l("The authority %(name)s is not active yet."),
    "authority_out_of_region": _l(
        "%(name)s is not an authority of %(region)s or of a level above it: choose the industry "
        "authority of your own region, city or province."
    ),
    "username_taken": _l("The username %(username)s is taken."),
    "id_number_taken": _l("This ID number is already registered; sign in with it instead."),
    "no_employer": _l("Choose the employer you work for."),
    "employer_not_active": _l("%(name)s is not active, so nobody can register with it."),
    "unknown_title": _l("Unknown title level %(level)s."),
    # domain.text: typed names, usernames and other text; shown next to the field, so not naming it
    "text_not_text": _l("Type this as text."),
    "text_control": _l(
        "Character %(position)s is an invisible control character (%(char)s): "
        "please retype the text without it."
    ),
    "text_bidi_control": _l(
        "Character %(position)s (%(char)s) turns the direction of the text around and could disguise it: "
        "please retype the text without it."
    ),
    "text_too_long": _l("This text has %(length)s characters; at most %(most)s are allowed."),
    "certificate_year_required": _l("Choose the year (2013 or 2014) your certificate was issued."),
    "certificate_number_taken": _l(
        "The certificate number %(number)s is already recorded for someone else: "
        "check the number on your certificate, or ask your employer's HR office."
    ),
    # domain.accounts: passwords and the unit admin's handover
    "no_account": _l("This account does not exist or is closed."),
    "wrong_password": _l("The current password is wrong."),
    "too_short": _l("The new password needs at least %(min)s characters."),
    "same_as_username": _l("The new password must not be the username."),
    "unchanged": _l("The new password is the same as the current one."),
    "organisation_not_active": _l("Only an active organisation can hand its admin over."),
    "no_such_colleague": _l("The successor must be another active user of the same organisation."),
    "name_missing": _l("Give the successor's username and name."),
    # domain.calendar.holidays: a year's holidays and make-up working days
    "calendar_not_saved": _l("The %(year)s holiday schedule was not saved."),
    "calendar_not_in_year": _l("These dates are not in %(year)s: %(dates)s."),
    "calendar_holiday_and_workday": _l(
        "These dates are both a holiday and a make-up working day: %(dates)s."
    ),
    "calendar_holiday_on_weekend": _l(
        "These holidays are a Saturday or Sunday, off anyway: %(dates)s. "
        "Enter weekend days off only inside a range of holidays."
    ),
    "calendar_workday_on_weekday": _l(
        "A make-up working day is a Saturday or Sunday; these are weekdays: %(dates)s."
    ),
    # domain.calendar.policy: a field's problem shows next to the field, so it does not name it
    "policy_not_saved": _l("The %(year)s policy calendar of %(region)s was not saved."),
    "policy_unknown_setting": _l("%(name)s is not a policy setting."),
    "policy_missing": _l("Give this value."),
    "policy_not_a_date": _l("%(value)s is not a date."),
    "policy_not_a_number": _l("%(value)s is not a whole number."),
    "policy_not_in_year": _l("%(value)s is not in %(year)s."),
    "policy_hours_not_positive": _l("Hours must be more than 0, not %(value)s."),
    "policy_review_days": _l("%(value)s is not between %(low)s and %(high)s working days."),
    "policy_before": _l("%(value)s is before “%(setting)s” (%(other)s)."),
    "policy_saved_meanwhile": _l("Someone saved this calendar at the same moment; reload the page."),
    "policy_share_range": _l("A share is between 0 and 100 percent, not %(value)s."),
    "policy_minutes_not_positive": _l("A class hour lasts more than 0 minutes, not %(value)s."),
    "policy_unconfirmed": _l(
        "The %(year)s policy calendar of %(region)s was not saved yet: confirm the unusual values."
    ),
    "policy_warn_junior_above_senior": _l(
        "Junior titles would need more public-subject hours (%(junior)s) than senior and intermediate ones "
        "(%(senior)s); usually it is fewer."
    ),
    "policy_warn_total_below_national": _l(
        "%(total)s hours a year is below the %(national)s the 2015 national regulation asks for."
    ),
    "policy_warn_shares_exceed_total": _l(
        "%(share)s%% professional subjects is %(professional)s hours; with %(public)s public-subject hours "
        "that is more than the %(total)s hours of the year."
    ),
    "policy_warn_share_low": _l(
        "Professional subjects are usually at least two thirds of the hours; "
        "%(share)s%% is below %(floor)s%%."
    ),
    "policy_warn_hour_unit": _l(
        "A class hour usually lasts 45 minutes (between %(low)s and %(high)s); %(value)s minutes is unusual."
    ),
    # domain.certificates: number ranges (号段) and certificate numbers (R5)
    "range_region_code_invalid": _l(
        "Region code %(region_code)s is not six digits; it cannot begin a number."
    ),
    "range_prefix_full": _l(
        "Only %(left)s numbers are left under %(prefix)s this year; %(size)s were asked for."
    ),
    "range_size_not_whole": _l("A range holds a whole number of certificates, not %(size)s."),
    "range_size_out_of_bounds": _l("A range holds 1 to %(most)s numbers; %(size)s were asked for."),
    "range_allocator_not_hrss": _l("Only an HRSS allocates number ranges."),
    "range_holder_not_employer": _l("Number ranges are allocated to employers only."),
    "range_covers_recorded_number": _l(
        "Numbers %(first)s to %(last)s would include %(number)s, which is already recorded; "
        "correct that record before allocating."
    ),
    "person_not_with_employer": _l("This professional is not registered with this employer."),
    "person_missing": _l("This professional does not exist."),
    "person_has_number": _l(
        "This professional already holds certificate number %(number)s; void it first to give another one."
    ),
    "kept_number_year": _l("Only numbers of certificates issued in 2013 or 2014 are kept, not %(year)s."),
    "kept_number_required": _l("Type the certificate number."),
    "number_recorded": _l("Certificate number %(number)s is already recorded; it cannot be kept."),
    "number_held": _l("Certificate number %(number)s is already held by another professional."),
    "number_in_allocated_range": _l(
        "Certificate number %(number)s lies in an allocated range; it is not a number kept from 2013 or 2014."
    ),
    "void_reason_required": _l("Give the reason for voiding the number."),
    "number_never_assigned": _l(
        "Certificate number %(number)s was never given out; there is nothing to void."
    ),
    "number_already_void": _l("Certificate number %(number)s is already void (%(reason)s)."),
    # domain.attachments
    "file_empty": _l("The file %(name)s is empty."),
    "file_too_big": _l("The file %(name)s is larger than %(limit)s MB."),
    "file_type": _l("%(name)s is not an allowed type; allowed are %(allowed)s."),
    "file_content": _l("%(name)s is not really a %(kind)s file; its content does not match its name."),
}
