"""The policy calendar (R4, R10, R16): per-year settings, inherited by counties, validated whole."""

from datetime import UTC
from datetime import date
from datetime import datetime

import pytest
from sqlalchemy import func
from sqlalchemy import select

from domain.calendar.policy import PolicyError
from domain.calendar.policy import PolicyUnconfirmed
from domain.calendar.policy import PolicyYear
from domain.calendar.policy import policy_deadline_function
from domain.calendar.policy import policy_for
from domain.calendar.policy import save_policy
from domain.calendar.policy import seed_policy_2015
from domain.organisations.shipped_regions import seed_regions
from domain.persons.records import TitleLevel

NOW = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)


def calendar(year: int, **changes) -> dict:
    """Return a valid calendar for a year, Pingdingshan-2015-like, with some values changed."""
    values = {
        "org_registration_deadline": date(year, 3, 20),
        "person_registration_deadline": date(year, 4, 15),
        "online_training_deadline_applicants": date(year, 7, 30),
        "online_training_deadline_others": date(year, 11, 30),
        "certificate_deadline_applicants": date(year, 8, 30),
        "certificate_deadline_others": date(year, 12, 30),
        "public_hours_senior": 26,
        "public_hours_junior": 22,
        "review_working_days": 5,
        "national_total_hours": 90,
        "professional_share_percent": 67,
        "hour_unit_minutes": 45,
    }
    return {**values, **changes}


@pytest.fixture
def regions(session_factory):
    with session_factory() as session, session.begin():
        seed_regions(session)
    return session_factory


def test_county_inherits_its_citys_calendar(regions):
    with regions() as session, session.begin():
        save_policy(session, 2026, "410400", calendar(2026), "市人社局", NOW)
    with regions() as session:
        county = policy_for(session, 2026, "410422")
        city = policy_for(session, 2026, "410400")
        province = policy_for(session, 2026, "410000")
        other_year = policy_for(session, 2025, "410422")
    assert county == city
    assert county.region_code == "410400"
    assert county.person_registration_deadline == date(2026, 4, 15)
    assert province is None  # the city's calendar does not flow upwards
    assert other_year is None


def test_a_county_calendar_of_its_own_comes_before_the_citys(regions):
    with regions() as session, session.begin():
        save_policy(session, 2026, "410400", calendar(2026), "市人社局", NOW)
        save_policy(session, 2026, "410422", calendar(2026, review_working_days=3), "叶县人社局", NOW)
    with regions() as session:
        assert policy_for(session, 2026, "410422").review_working_days == 3
        assert policy_for(session, 2026, "410423").review_working_days == 5


def test_invalid_values_are_refused_with_every_problem_listed_and_nothing_stored(regions):
    bad = calendar(
        2026,
        org_registration_deadline=date(2025, 12, 31),
        certificate_deadline_others="2026-13-01",
        public_hours_senior=0,
        public_hours_junior=-4,
        review_working_days=61,
        person_registration_deadline=date(2026, 3, 1),
        certificate_deadline_applicants=date(2026, 7, 1),
        shoe_size=42,
    )
    with regions() as session, session.begin(), pytest.raises(PolicyError) as refused:
        save_policy(session, 2026, "410400", bad, "市人社局", NOW)
    problems = [(p.code, p.params) for p in refused.value.problems]
    assert ("policy_unknown_setting", {"name": "shoe_size"}) in problems
    assert (
        "policy_not_in_year",
        {"field": "org_registration_deadline", "value": date(2025, 12, 31), "year": 2026},
    ) in problems
    assert ("policy_not_a_date", {"field": "certificate_deadline_others", "value": "2026-13-01"}) in problems
    assert ("policy_hours_not_positive", {"field": "public_hours_senior", "value": 0}) in problems
    assert ("policy_hours_not_positive", {"field": "public_hours_junior", "value": -4}) in problems
    assert (
        "policy_review_days",
        {"field": "review_working_days", "value": 61, "low": 1, "high": 60},
    ) in problems
    assert (
        "policy_before",
        {
            "field": "certificate_deadline_applicants",
            "value": date(2026, 7, 1),
            "setting": "online_training_deadline_applicants",
            "other": date(2026, 7, 30),
        },
    ) in problems
    assert len(problems) == 7
    assert isinstance(refused.value, ValueError) and refused.value.code == "policy_not_saved"
    with regions() as session:
        assert session.scalar(select(func.count()).select_from(PolicyYear)) == 0


def test_a_new_calendar_needs_every_value_and_a_known_region(regions):
    with regions() as session, session.begin(), pytest.raises(PolicyError) as refused:
        save_policy(session, 2026, "999999", {"review_working_days": "0"}, "admin", NOW)
    problems = [(p.code, p.params) for p in refused.value.problems]
    assert problems[0] == ("no_region", {"region": "999999"})
    assert ("policy_missing", {"field": "org_registration_deadline"}) in problems
    assert (
        "policy_review_days",
        {"field": "review_working_days", "value": 0, "low": 1, "high": 60},
    ) in problems


def test_a_change_keeps_the_values_it_does_not_name(regions):
    with regions() as session, session.begin():
        save_policy(session, 2026, "410400", calendar(2026), "市人社局", NOW)
    with regions() as session, session.begin():
        changed = save_policy(session, 2026, "410400", {"public_hours_senior": "24"}, "张科长", NOW)
    assert changed.public_hours_senior == 24 and changed.public_hours_junior == 22
    assert changed.updated_by == "张科长"
    with regions() as session:
        assert session.scalar(select(func.count()).select_from(PolicyYear)) == 1


def test_seeded_values_match_the_2015_pingdingshan_notice(regions):
    with regions() as session, session.begin():
        added = seed_policy_2015(session, NOW)
    with regions() as session:
        p2015 = policy_for(session, 2015, "410422")
        p2026 = policy_for(session, 2026, "410400")
        p2025 = policy_for(session, 2025, "410400")
    assert added == 3  # 2015, 2025 and 2026 (the clock's year is 2026)
    assert p2015.org_registration_deadline == date(2015, 3, 20)  # 七(二): 3月20日前完成单位注册
    assert p2015.person_registration_deadline == date(2015, 4, 15)  # 4月15号之前完成人员注册
    assert p2015.online_training_deadline_applicants == date(2015, 7, 30)  # 四(三)
    assert p2015.online_training_deadline_others == date(2015, 11, 30)
    assert p2015.certificate_deadline_applicants == date(2015, 8, 30)  # 六(二)
    assert p2015.certificate_deadline_others == date(2015, 12, 30)
    assert (p2015.public_hours_senior, p2015.public_hours_junior) == (26, 22)
    assert p2015.review_working_days == 5
    assert p2026.certificate_deadline_others == date(2026, 12, 30)
    assert p2025.org_registration_deadline == date(2025, 3, 20)


def test_seeding_again_adds_nothing_and_keeps_staff_edits(regions):
    with regions() as session, session.begin():
        seed_policy_2015(session, NOW)
        save_policy(session, 2026, "410400", {"public_hours_senior": 24}, "staff", NOW)
    with regions() as session, session.begin():
        assert seed_policy_2015(session, NOW) == 0
    with regions() as session:
        assert policy_for(session, 2026, "410400").public_hours_senior == 24


def test_public_hours_follow_the_title_level(regions):
    with regions() as session, session.begin():
        view = save_policy(session, 2026, "410400", calendar(2026), "市人社局", NOW)
    assert view.public_hours(TitleLevel.JUNIOR) == 22
    for level in (TitleLevel.SENIOR_FULL, TitleLevel.SENIOR_ASSOCIATE, TitleLevel.INTERMEDIATE):
        assert view.public_hours(level) == 26


def test_policy_deadline_is_the_end_of_that_day_in_beijing_of_the_current_year(regions):
    with regions() as session, session.begin():
        seed_policy_2015(session, NOW)
    bind = policy_deadline_function(regions)
    assert bind(NOW)("person_registration") == "2026-04-15T23:59:59+08:00"
    assert bind(NOW)("certificate_applicants", "410422") == "2026-08-30T23:59:59+08:00"
    # 2025-12-31 17:00 UTC is already 2026-01-01 in Beijing
    new_year = datetime(2025, 12, 31, 17, 0, tzinfo=UTC)
    assert bind(new_year)("org_registration") == "2026-03-20T23:59:59+08:00"
    with pytest.raises(ValueError, match="no deadline is called 'holidays'"):
        bind(NOW)("holidays")
    with pytest.raises(ValueError, match="no policy calendar is set for 2030"):
        bind(datetime(2030, 6, 1, tzinfo=UTC))("org_registration")


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        ({"professional_share_percent": 120}, ("policy_share_range", "professional_share_percent")),
        ({"professional_share_percent": -1}, ("policy_share_range", "professional_share_percent")),
        ({"hour_unit_minutes": 0}, ("policy_minutes_not_positive", "hour_unit_minutes")),
        ({"national_total_hours": 0}, ("policy_hours_not_positive", "national_total_hours")),
    ],
)
def test_impossible_r16_settings_are_refused(regions, changes, refused):
    with regions() as session, session.begin(), pytest.raises(PolicyError) as error:
        save_policy(session, 2026, "410400", calendar(2026, **changes), "市人社局", NOW)
    assert [(p.code, p.params["field"]) for p in error.value.problems] == [refused]


@pytest.mark.parametrize(
    ("changes", "warned"),
    [
        ({"public_hours_junior": 30}, {"policy_warn_junior_above_senior": {"junior": 30, "senior": 26}}),
        ({"national_total_hours": 80}, {"policy_warn_total_below_national": {"total": 80, "national": 90}}),
        (
            {"professional_share_percent": 90},  # 26 public + 81 professional hours > 90
            {"policy_warn_shares_exceed_total": {"share": 90, "professional": 81, "public": 26, "total": 90}},
        ),
        ({"professional_share_percent": 30}, {"policy_warn_share_low": {"share": 30, "floor": 50}}),
        ({"hour_unit_minutes": 100}, {"policy_warn_hour_unit": {"value": 100, "low": 40, "high": 60}}),
    ],
)
def test_implausible_values_are_saved_only_once_their_warnings_are_confirmed(regions, changes, warned):
    values = calendar(2026, **changes)
    with regions() as session, session.begin(), pytest.raises(PolicyUnconfirmed) as unconfirmed:
        save_policy(session, 2026, "410400", values, "市人社局", NOW)
    found = {w.code: {k: v for k, v in w.params.items() if k != "field"} for w in unconfirmed.value.problems}
    assert found == warned and unconfirmed.value.code == "policy_unconfirmed"
    with regions() as session, session.begin(), pytest.raises(PolicyUnconfirmed):
        save_policy(session, 2026, "410400", values, "市人社局", NOW, confirmed="not-the-key")
    with regions() as session, session.begin():
        saved = save_policy(session, 2026, "410400", values, "市人社局", NOW, confirmed=unconfirmed.value.key)
    assert all(getattr(saved, name) == value for name, value in changes.items())


def test_a_confirmation_covers_only_the_values_it_was_given_for(regions):
    with regions() as session, session.begin(), pytest.raises(PolicyUnconfirmed) as first:
        save_policy(session, 2026, "410400", calendar(2026, public_hours_junior=30), "市人社局", NOW)
    with regions() as session, session.begin(), pytest.raises(PolicyUnconfirmed):
        changed = calendar(2026, public_hours_junior=40)  # another value than the one confirmed
        save_policy(session, 2026, "410400", changed, "市人社局", NOW, confirmed=first.value.key)
    with regions() as session:
        assert session.scalar(select(func.count()).select_from(PolicyYear)) == 0
