"""Supervision notices in the browser: each HRSS reads its jurisdiction's, and downloads them as Excel."""

import io

from openpyxl import load_workbook
from sqlalchemy import select

from domain.organisations.records import Organisation
from domain.supervision.notices import SupervisionNotice


def notice_of(session_factory, region_code):
    with session_factory() as s:
        hrss = s.scalar(
            select(Organisation.id).where(
                Organisation.kind == "hrss", Organisation.region_code == region_code
            )
        )
        return s.scalar(select(SupervisionNotice.id).where(SupervisionNotice.hrss_id == hrss))


def test_the_demo_produces_notices_that_the_city_reads_and_downloads(app, login_as, session_factory):
    city_notice = notice_of(session_factory, "410400")
    assert city_notice is not None
    browser = login_as("pds-reviewer", into=app.test_client())
    listing = browser.get("/supervision/").get_data(as_text=True)
    assert f"/supervision/{city_notice}" in listing
    download = browser.get(f"/supervision/{city_notice}.xlsx")
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(download.data)).active
    assert sheet.max_row > 2  # the title, the header and at least one late organisation


def test_a_county_cannot_read_another_countys_or_the_citys_notice(app, login_as, session_factory):
    browser = login_as("yexian-reviewer", into=app.test_client())
    for region in ("410400", "410423"):
        notice = notice_of(session_factory, region)
        if notice is None:
            continue
        assert browser.get(f"/supervision/{notice}").status_code == 404
        assert browser.get(f"/supervision/{notice}.xlsx").status_code == 404


def test_a_named_employer_reads_only_its_own_line_of_a_notice(app, login_as, session_factory):
    """Finding "jurisdiction holes": an employer read the province and city notices whole.

    Those list late organisations and head-counts in every county; an organisation named in a
    notice sees its own line of it only, on the page and in the .xlsx download.
    """
    for username, own in (("yexian-hr", "叶县人民医院"), ("lushan-hr", "鲁山县第一中学")):
        browser = login_as(username, into=app.test_client())
        with session_factory() as s:
            notices = s.scalars(select(SupervisionNotice)).all()
            named = [n.id for n in notices if own in str(n.details)]
            others = {
                org["name"]
                for n in notices
                for region in n.details["regions"]
                for org in region["organisations"]
                if org["name"] != own
            }
        assert named and others  # the demo names the employer beside other organisations
        for notice in named:
            page = browser.get(f"/supervision/{notice}").get_data(as_text=True)
            assert own in page and not [name for name in others if name in page]
            sheet = load_workbook(io.BytesIO(browser.get(f"/supervision/{notice}.xlsx").data)).active
            rows = [row for row in sheet.iter_rows(min_row=4, values_only=True)]
            assert [row[1] for row in rows] == [own, "1家单位"]  # its line and the total of that line
