"""The person's courses page and certificate download (theirs only), and the public verify page."""

import re
import subprocess
from datetime import UTC
from datetime import date
from datetime import datetime

import pytest
from stdnum.cn import ric

from domain.courses.enrolment import Enrolment
from domain.courses.records import Course
from domain.organisations.records import Organisation
from tests.test_pass_certificate import pdf_text
from tests.test_pass_certificate import poppler  # noqa: F401 - skips when poppler-utils is missing
from tests.web.conftest import sign_in
from tests.web.test_auth import add_person


def id_number(serial: str) -> str:
    body = f"41042219880214{serial}"
    return body + ric.calc_check_digit(body + "0")


OWNER, OTHER = id_number("001"), id_number("002")
FILENAME = re.compile(r'filename="?pass-certificate-([A-Z0-9]{16})\.pdf')


@pytest.fixture
def enrolments(app, session_factory, clock):
    """OWNER passed a filed 2026 course (credited) and is enrolled in a second; OTHER passed the first."""
    owner = add_person(session_factory, clock, "叶县人民医院", OWNER)
    other = add_person(session_factory, clock, "叶县人民医院", OTHER)
    with session_factory() as s, s.begin():
        base = Organisation(
            kind="institution",
            name="叶县继续教育基地",
            region_code="410422",
            status="active",
            created_at=clock(),
        )
        s.add(base)
        s.flush()
        filed = {}
        for title, subject, number in (
            ("医疗卫生法律法规", "public", "豫继备2026-0001"),
            ("急救技能", "professional", None),
        ):
            course = Course(
                filer_id=base.id,
                filer_kind="institution",
                region_code="410422",
                title=title,
                subject=subject,
                hours=12,
                mode="online",
                year=2026,
                fee_cents=6000,
                status="approved",
                filing_number=number,
                filed_at=clock(),
            )
            s.add(course)
            s.flush()
            filed[title] = course.id
        ids = {}
        for key, person_id, title in (
            ("owner_passed", owner, "医疗卫生法律法规"),
            ("owner_waiting", owner, "急救技能"),
            ("other_passed", other, "医疗卫生法律法规"),
        ):
            row = Enrolment(
                course_id=filed[title],
                person_id=person_id,
                fee_cents=6000,
                enrolled_by_id=1,
                enrolled_at=clock(),
            )
            if key.endswith("passed"):  # what an approved score submission sets
                row.score, row.passed, row.completed_on, row.hours_credited = (
                    "91",
                    True,
                    date(2026, 5, 20),
                    12,
                )
                row.credited_at = datetime(2026, 5, 25, tzinfo=UTC)
                row.payment_state = "transfer_confirmed"
            s.add(row)
            s.flush()
            ids[key] = row.id
    return ids


def download(client, enrolment_id: int):
    return client.get(f"/my/courses/{enrolment_id}/certificate.pdf")


def test_the_person_downloads_the_same_certificate_each_time(client, login_as, enrolments):
    login_as(OWNER)
    page = client.get("/my/courses").get_data(as_text=True)
    assert "医疗卫生法律法规" in page and "急救技能" in page and "银行转账" in page
    assert page.count("certificate.pdf") == 1  # only the credited course has one
    first = download(client, enrolments["owner_passed"])
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    code = FILENAME.search(first.headers["Content-Disposition"]).group(1)
    again = download(client, enrolments["owner_passed"])
    assert again.get_data() == first.get_data()
    assert FILENAME.search(again.headers["Content-Disposition"]).group(1) == code


def test_no_certificate_for_a_course_not_credited_nor_for_someone_else(client, login_as, enrolments):
    login_as(OWNER)
    assert download(client, enrolments["owner_waiting"]).status_code == 404
    assert download(client, enrolments["other_passed"]).status_code == 404
    assert download(client, 999_999).status_code == 404
    login_as("yexian-hr")  # staff have no courses page of their own
    assert client.get("/my/courses").status_code == 404
    assert download(client, enrolments["owner_passed"]).status_code == 404


def test_the_verify_page_shows_the_certificate_and_no_more(app, client, login_as, enrolments):
    login_as(OWNER)
    code = FILENAME.search(download(client, enrolments["owner_passed"]).headers["Content-Disposition"]).group(
        1
    )
    stranger = app.test_client()
    genuine = stranger.get(f"/verify/{code}")
    assert genuine.status_code == 200
    text = genuine.get_data(as_text=True)
    assert "真实有效" in text and "professional " + OWNER[-4:] in text and "医疗卫生法律法规" in text
    assert "410422********" + OWNER[-4:] in text and OWNER not in text and "1988" not in text
    assert "豫继备2026-0001" in text and "2026年5月20日" in text and "科目类别" in text
    typed = stranger.get("/verify", query_string={"code": "-".join(re.findall("....", code.lower()))})
    assert typed.status_code == 302 and typed.headers["Location"].endswith(f"/verify/{code}")
    unknown = stranger.get("/verify/ABCDEFGHJKMNPQRS")
    assert unknown.status_code == 404 and "未找到" in unknown.get_data(as_text=True)
    assert "<header" in unknown.get_data(as_text=True)  # in the site layout


def test_the_verify_page_is_rate_limited(app, client):
    app.config["RATELIMIT_PUBLIC"] = "3 per minute"
    assert [client.get("/verify/ABCDEFGHJKMNPQRS").status_code for _ in range(3)] == [404, 404, 404]
    refused = client.get("/verify/ABCDEFGHJKMNPQRS")
    assert refused.status_code == 429 and "请求过于频繁" in refused.get_data(as_text=True)


@pytest.mark.browser
def test_the_person_downloads_the_certificate_and_the_verify_page_confirms_it(
    live_server,
    new_page,
    enrolments,
    tmp_path,
    poppler,  # noqa: F811
):
    person = new_page()
    sign_in(person, live_server, OWNER)
    person.get_by_role("link", name="我的课程").click()
    row = person.locator(f"#enrolment-{enrolments['owner_passed']}")
    with person.expect_download() as started:
        row.get_by_role("link", name="下载（PDF）").click()
    saved = tmp_path / "certificate.pdf"
    started.value.save_as(saved)
    text = pdf_text(saved)
    assert "professional " + OWNER[-4:] in text and "410422********" + OWNER[-4:] in text
    assert "医疗卫生法律法规" in text and "12 学时" in text
    verify_url = re.search(rf"{re.escape(live_server)}/verify/[A-Z0-9]{{16}}", text).group(0)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-singlefile", str(saved), str(tmp_path / "page")], check=True
    )
    assert (tmp_path / "page.png").stat().st_size > 10_000
    checker = new_page()  # anyone, not signed in, following the QR code
    checker.goto(verify_url)
    assert checker.locator("#genuine").is_visible()
    shown = checker.locator("#certificate").inner_text()
    assert "professional " + OWNER[-4:] in shown and verify_url[-16:][:4] in shown
