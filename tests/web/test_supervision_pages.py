"""Supervision notices in the browser: each HRSS reads its jurisdiction's, and downloads them as Excel."""

import io
import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from urllib.parse import unquote

from openpyxl import load_workbook
from sqlalchemy import func
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


def city_notice_facts(session_factory) -> tuple[int, list[dict], str, str]:
    """Return the city's notice: its id, its late organisations' rows, its as-of day and its period."""
    city_notice = notice_of(session_factory, "410400")
    with session_factory() as s:
        stored = s.get(SupervisionNotice, city_notice)
        rows = [org for region in stored.details["regions"] for org in region["organisations"]]
        return city_notice, rows, stored.details["as_of"], stored.period


def test_a_notice_reads_as_an_official_document_with_totals(app, login_as, session_factory):
    city_notice, rows, as_of, period = city_notice_facts(session_factory)
    year, week = period.split("-W")
    page = (
        login_as("pds-reviewer", into=app.test_client())
        .get(f"/supervision/{city_notice}")
        .get_data(as_text=True)
    )
    assert re.search(r'class="document-office">平顶山市人力资源和社会保障局<', page)
    assert f'id="document-number">督导通报 {year}年第{int(week)}期<' in page
    assert f'id="as-of">{as_of}<' in page and 'id="issued-on">' in page
    assert f'id="total-organisations">合计：{len(rows)} 家单位<' in page
    for name in ("expected", "registered", "shortfall"):
        assert f'id="total-{name}">{sum(org[name] for org in rows)}<' in page
    assert "notice-text" not in page  # no longer a block of plain text


def test_the_excel_file_has_a_chinese_name_the_as_of_date_and_totals(app, login_as, session_factory):
    city_notice, rows, as_of, period = city_notice_facts(session_factory)
    download = login_as("pds-reviewer", into=app.test_client()).get(f"/supervision/{city_notice}.xlsx")
    disposition = download.headers["Content-Disposition"]
    encoded = re.search(r"filename\*=UTF-8''([^;]+)", disposition).group(1)
    year, week = period.split("-W")
    assert unquote(encoded) == f"平顶山市人力资源和社会保障局督导通报（{year}年第{int(week)}期）.xlsx"
    assert disposition.startswith("attachment;") and 'filename="' in disposition  # an ASCII fallback too
    sheet = load_workbook(io.BytesIO(download.data)).active
    assert (
        f"数据截至：{as_of}" in sheet["A2"].value
        and "发文单位：平顶山市人力资源和社会保障局" in sheet["A2"].value
    )
    total = [cell.value for cell in sheet[sheet.max_row]]
    assert total == [
        "合计",
        f"{len(rows)}家单位",
        None,
        None,
        *(sum(o[n] for o in rows) for n in ("expected", "registered", "shortfall")),
    ]


def add_notices(session_factory, region_code: str, weeks: range) -> None:
    """Store one notice of the region's HRSS per week, as the weekly job would."""
    with session_factory() as s, s.begin():
        hrss = s.scalar(
            select(Organisation.id).where(
                Organisation.kind == "hrss", Organisation.region_code == region_code
            )
        )
        for week in weeks:
            s.add(
                SupervisionNotice(
                    hrss_id=hrss,
                    period=f"2024-W{week:02d}",
                    created_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(weeks=week),
                    title=f"督导通报（2024-W{week:02d}）",
                    summary="",
                    late_count=0,
                    details={"as_of": "2024-01-01", "regions": []},
                )
            )


def test_the_list_filters_by_issue_and_office_and_pages(app, login_as, session_factory):
    add_notices(session_factory, "410422", range(1, 26))  # 叶县's HRSS: 25 weekly notices of 2024
    city = login_as("pds-reviewer", into=app.test_client())
    with session_factory() as s:
        yexian = s.scalar(
            select(Organisation.id).where(Organisation.kind == "hrss", Organisation.region_code == "410422")
        )
        counted = s.scalar(select(func.count()).select_from(SupervisionNotice))
    first = city.get(f"/supervision/?office={yexian}").get_data(as_text=True)
    listed = re.findall(r'data-notice="(\d+)"', first)
    assert len(listed) == 20 and "第 1–20 条，共 2" in first
    following = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = city.get(following).get_data(as_text=True)
    assert "第 21–" in second and not set(re.findall(r'data-notice="(\d+)"', second)) & set(listed)
    one = city.get("/supervision/?period=2024-W07").get_data(as_text=True)
    assert re.findall(r"<td>(\d{4}年第\d+期)</td>", one) == ["2024年第7期"]
    assert "共 1 条" in one and counted > 25
    assert city.get("/supervision/?period=W07").status_code == 400
    county = (
        login_as("yexian-reviewer", into=app.test_client())
        .get("/supervision/?office=1")
        .get_data(as_text=True)
    )
    assert "平顶山市人力资源和社会保障局" not in re.sub(
        r"<select name=\"office\">.*?</select>", "", county, flags=re.S
    )
