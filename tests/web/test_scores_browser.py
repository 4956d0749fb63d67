"""In Chromium, the end of a course: the institution uploads scores with one wrong row and reads the
error report, uploads the corrected file, the city HRSS approves it, and the professional downloads the
pass certificate whose QR address the public verify page confirms."""

import io
import re
import subprocess
from datetime import date

from openpyxl import Workbook
from openpyxl import load_workbook
from sqlalchemy import select

from domain.accounts.passwords import hash_password
from domain.courses.enrolment import Enrolment
from domain.courses.records import Course
from seed.courses import ENROLLED_PROFESSIONAL
from seed.courses import HOSPITAL_STAFF
from seed.courses import load_demo_courses
from seed.courses import valid_id
from tests.test_pass_certificate import pdf_text
from tests.test_pass_certificate import poppler  # noqa: F401 - skips when poppler-utils is missing
from tests.web.conftest import sign_in
from tests.web.test_course_browser import decide

HEADERS = ["身份证号", "姓名", "成绩", "是否合格", "学时", "完成日期"]


def score_file(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_scores_are_refused_with_a_report_then_credited_and_the_certificate_verifies(
    app,
    live_server,
    new_page,
    session_factory,
    tmp_path,
    poppler,  # noqa: F811
):
    load_demo_courses(app.extensions["ceflow.runtime"], hash_password("demo1234"))
    with session_factory() as s:
        course = s.scalars(select(Course).where(Course.title.like("公需科目：专业技术人员职业道德%"))).one()
    done = date(course.year, 6, 1)
    rows = [[valid_id(number), name, 90, "合格", 12, done] for number, name, _level in HOSPITAL_STAFF]

    base = new_page()
    sign_in(base, live_server, "pds-cebase")
    base.goto(f"{live_server}/courses/{course.id}")
    wrong = [list(row) for row in rows]
    wrong[2][1] = "郑小华"  # not the name registered with this ID number
    base.get_by_label("成绩文件").set_input_files(
        {"name": "成绩.xlsx", "mimeType": "application/octet-stream", "buffer": score_file(wrong)}
    )
    base.get_by_role("button", name="上传成绩").click()
    assert "整份文件未接收" in base.get_by_role("alert").inner_text()
    with base.expect_download() as started:
        base.get_by_role("link", name="下载错误报告").click()
    started.value.save_as(tmp_path / "report.xlsx")
    report = load_workbook(tmp_path / "report.xlsx").active
    reasons = [[cell.value for cell in row] for row in report.iter_rows(min_row=2)]
    assert len(reasons) == 1 and reasons[0][0] == 4 and "姓名" in str(reasons[0])
    with session_factory() as s:
        assert s.scalars(select(Enrolment).where(Enrolment.credited_at.is_not(None))).all() == []

    base.get_by_label("成绩文件").set_input_files(
        {"name": "成绩（更正）.xlsx", "mimeType": "application/octet-stream", "buffer": score_file(rows)}
    )
    base.get_by_role("button", name="上传成绩").click()
    assert "文件已接收" in base.get_by_role("alert").inner_text()

    decide(new_page(), live_server, "pds-reviewer", "4人）")  # not the demo's upload of 3, also waiting
    with session_factory() as s:
        credited = s.scalars(select(Enrolment.hours_credited).where(Enrolment.course_id == course.id)).all()
    assert credited == [12, 12, 12, 12]

    person = new_page()
    person.goto(f"{live_server}/login")
    person.get_by_label("用户名或身份证号").fill(ENROLLED_PROFESSIONAL)
    person.get_by_label("密码").fill("demo1234")
    person.get_by_role("button", name="登录").click()
    person.wait_for_url(lambda url: "/login" not in url)
    person.get_by_role("link", name="我的课程").click()
    with person.expect_download() as started:
        person.get_by_role("link", name="下载（PDF）").first.click()
    saved = tmp_path / "certificate.pdf"
    started.value.save_as(saved)
    text = pdf_text(saved)
    assert "周敏" in text and "12 学时" in text and ENROLLED_PROFESSIONAL not in text  # the ID is masked
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-singlefile", str(saved), str(tmp_path / "page")], check=True
    )
    verify_url = re.search(rf"{re.escape(live_server)}/verify/[A-Z0-9]{{16}}", text).group(0)
    checker = new_page()
    checker.goto(verify_url)
    assert checker.locator("#genuine").is_visible() and "周敏" in checker.locator("#certificate").inner_text()
