"""Pass certificates (合格证明, R8): one per passed, credited course, for its person only, as printed."""

import shutil
import subprocess
import threading
from datetime import UTC
from datetime import date
from datetime import datetime

import pytest
from PIL import Image
from sqlalchemy import func
from sqlalchemy import select

from domain.courses.certificate_document import grouped_code
from domain.courses.enrolment import Enrolment
from domain.courses.pass_certificate import CODE_ALPHABET
from domain.courses.pass_certificate import CertificateNotFound
from domain.courses.pass_certificate import PassCertificate
from domain.courses.pass_certificate import certificate_by_code
from domain.courses.pass_certificate import new_code
from domain.courses.records import Course
from domain.files import DatabaseFileStore
from domain.persons.records import Person
from services import courses
from tests import test_enrolment
from tests.conftest import POSTGRES

POPPLER = ("pdftotext", "pdftoppm", "pdffonts")
STORE = DatabaseFileStore()
scene, who = test_enrolment.scene, test_enrolment.who  # the enrolment tests' course, institution, persons


def verify_url(code: str) -> str:
    return f"https://ce.example.gov.cn/verify/{code}"


def credit(session_factory, enrolment_id: int, passed: bool = True, hours: int = 12) -> None:
    """Set the result an approved score submission would set (that submission is tested elsewhere)."""
    with session_factory() as s, s.begin():
        row = s.get(Enrolment, enrolment_id)
        row.score, row.passed, row.completed_on = "86", passed, date(2025, 6, 30)
        row.hours_credited = hours if passed else 0
        row.credited_at = datetime(2025, 7, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def passed(rt, who, scene, session_factory):
    """p0 enrolled in the filed course, passed, 12 hours credited; return the enrolment id."""
    with session_factory() as s, s.begin():
        s.get(Course, scene["course"]).filing_number = "豫继备2025-410422-0007"
    enrolment_id = courses.enrol(rt, who("p0_user"), scene["course"])
    credit(session_factory, enrolment_id)
    return enrolment_id


@pytest.fixture
def poppler():
    if missing := [tool for tool in POPPLER if shutil.which(tool) is None]:
        pytest.skip(f"{', '.join(missing)} missing: `make browser` installs poppler-utils")


def pdf_text(path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_the_certificate_names_the_person_with_a_masked_id_and_embeds_its_fonts(
    rt, who, passed, tmp_path, poppler
):
    code, pdf = courses.pass_certificate_pdf(rt, who("p0_user"), passed, STORE, verify_url)
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    text = pdf_text(path)
    for shown in ("合格证明", "人员0", "410422********000X", "course课程", "公需科目", "12 学时", "2025年"):
        assert shown in text
    assert "叶县继续教育基地" in text and "2025年6月30日" in text and "豫继备2025-410422-0007" in text
    assert grouped_code(code) in text and verify_url(code) in text
    assert "41042219850101000X" not in text  # the full ID number is never printed
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:]]
    assert len(rows) == 2 and all(row[-5] == "yes" for row in rows)  # every font embedded: the emb column
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-singlefile", str(path), str(tmp_path / "page")], check=True
    )
    with Image.open(tmp_path / "page.png") as page:
        assert page.width > page.height  # A4 landscape
        inked = sum(page.convert("L").histogram()[:128])  # dark pixels
    assert inked > 2000  # the page is drawn, not blank


def test_a_second_download_gives_the_same_certificate(rt, who, passed, session_factory):
    first = courses.pass_certificate_pdf(rt, who("p0_user"), passed, STORE, verify_url)
    again = courses.pass_certificate_pdf(rt, who("p0_user"), passed, STORE, verify_url)
    assert again == first
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(PassCertificate)) == 1


def test_two_first_downloads_at_once_issue_one_certificate(rt, who, passed, session_factory):
    downloads = 2 if not POSTGRES else 4
    barrier, codes = threading.Barrier(downloads), []
    person = who("p0_user")

    def download():
        barrier.wait()
        codes.append(courses.pass_certificate_pdf(rt, person, passed, STORE, verify_url)[0])

    threads = [threading.Thread(target=download) for _ in range(downloads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(codes) == downloads and len(set(codes)) == 1
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(PassCertificate)) == 1


def test_the_verify_lookup_shows_what_was_printed_even_after_the_records_change(
    rt,
    who,
    passed,
    session_factory,
    scene,
):
    code, _pdf = courses.pass_certificate_pdf(rt, who("p0_user"), passed, STORE, verify_url)
    with session_factory() as s, s.begin():
        s.get(Person, scene["p0"]).name = "改名后"
        s.get(Course, scene["course"]).title = "改过的课程"
    with session_factory() as s:
        shown = certificate_by_code(s, grouped_code(code).lower())  # as typed from the paper
        assert (shown.person_name, shown.course_title) == ("人员0", "course课程")
        assert (shown.id_number_masked, shown.hours, shown.subject) == ("410422********000X", 12, "public")
        for unknown in (new_code(), "", "x" * 16, code[:-1]):
            with pytest.raises(CertificateNotFound):
                certificate_by_code(s, unknown)


def test_no_certificate_before_the_hours_are_credited_or_after_a_fail(rt, who, scene, session_factory):
    waiting = courses.enrol(rt, who("p1_user"), scene["course"])
    failed = courses.enrol(rt, who("p2_user"), scene["course"])
    credit(session_factory, failed, passed=False)
    for user, enrolment_id in (("p1_user", waiting), ("p2_user", failed)):
        with pytest.raises(CertificateNotFound):
            courses.pass_certificate_pdf(rt, who(user), enrolment_id, STORE, verify_url)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(PassCertificate)) == 0


def test_no_one_but_the_person_gets_their_certificate(rt, who, passed):
    for other in ("p1_user", "base_admin", "applicant"):
        with pytest.raises(CertificateNotFound):
            courses.pass_certificate_pdf(rt, who(other), passed, STORE, verify_url)


def test_codes_are_sixteen_unambiguous_characters_and_do_not_repeat():
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == 16 and set(code) <= set(CODE_ALPHABET) for code in codes)
    assert not set("01OIL") & set(CODE_ALPHABET)
