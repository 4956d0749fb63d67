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
