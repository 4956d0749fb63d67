"""The person registration form leads from a region to its employers (counties first, the city's own
employers after them), searches employers on the server (with or without JavaScript), offers only
active employers, and preselects no title level."""

import re

import pytest
from sqlalchemy import func
from sqlalchemy import select
from stdnum.cn import ric

from domain.organisations.records import Organisation
from domain.persons.records import Person
from tests.web.test_auth import post_form
from tests.web.test_auth import text

OPTION = re.compile(r'<option value="([^"]*)"( selected)?>([^<]*)</option>')
NEW_ID = "41042219900101003"
NEW_ID += ric.calc_check_digit(NEW_ID + "0")


def select_options(html: str, name: str) -> list[tuple[str, bool, str]]:
    block = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [(value, bool(chosen), label.strip()) for value, chosen, label in OPTION.findall(block)]


def org_id(session_factory, name: str) -> int:
    with session_factory() as session:
        return session.scalar(select(Organisation.id).where(Organisation.name == name))


def person_form(employer_id, **changes) -> dict:
    values = {
        "employer_id": employer_id,
        "id_number": NEW_ID,
        "name": "吴七",
        "title_level": "intermediate",
        "password": "secret-1234",
        "confirm": "secret-1234",
    }
    return {**values, **changes}


def persons_named(session_factory, name: str) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).where(Person.name == name))


def test_the_regions_list_counties_first_and_the_citys_own_employers_after_them(client):
    regions = select_options(text(client.get("/register/person")), "region")
    codes = [value for value, _, _ in regions]
    assert codes[0] == "" and not any(chosen for _, chosen, _ in regions)  # nothing chosen for you
    assert codes.index("410422") < codes.index("410400") and codes[-1] == "410400"
    city = regions[-1][2]
    assert city.startswith("平顶山市市直单位")
    yexian = next(label for value, _, label in regions if value == "410422")
    assert re.fullmatch(r"叶县 \(\d+ 个单位\)", yexian)


def test_no_title_level_is_preselected_and_one_must_be_chosen(client, app, session_factory):
    levels = select_options(text(client.get("/register/person")), "title_level")
    assert levels[0][0] == "" and not any(chosen for _, chosen, _ in levels)
    hospital = org_id(session_factory, "叶县人民医院")
    page = text(post_form(client, "/register/person", person_form(hospital, title_level="")))
    assert "请选择您的职称级别" in page and persons_named(session_factory, "吴七") == 0


def test_the_search_endpoint_offers_a_regions_active_employers_by_name(client, session_factory):
    found = client.get("/register/employers?region=410422&q=人民").get_json()
    names = [e["name"] for e in found["employers"]]
    assert "叶县人民医院" in names and all("人民" in name for name in names) and found["more"] is False
    with session_factory() as session:
        in_yexian = set(
            session.scalars(select(Organisation.name).where(Organisation.region_code == "410422"))
        )
    assert set(names) <= in_yexian
    everywhere = {e["name"] for e in client.get("/register/employers?q=中学").get_json()["employers"]}
    assert "鲁山县第一中学" in everywhere
    assert "叶县第二高级中学" not in everywhere  # still under review: nobody registers under it (R1)
    assert client.get("/register/employers?region=410422&q=鲁山县第一中学").get_json()["employers"] == []


def test_without_javascript_the_find_button_narrows_the_list(client):
    employers = select_options(text(client.get("/register/person?region=410423&q=第一")), "employer_id")
    assert [label for _, _, label in employers] == ["请选择工作单位", "鲁山县第一中学"]


def test_a_person_registers_with_an_employer_found_by_search(client, session_factory):
    hospital = org_id(session_factory, "叶县人民医院")
    response = post_form(client, "/register/person?region=410422&q=人民", person_form(hospital))
    assert response.status_code == 302 and persons_named(session_factory, "吴七") == 1


def test_an_employer_under_review_is_refused_and_the_form_keeps_the_choice_list(client, session_factory):
    pending = org_id(session_factory, "叶县第二高级中学")
    page = text(post_form(client, "/register/person", person_form(pending)))
    assert "叶县第二高级中学" in page and persons_named(session_factory, "吴七") == 0
    assert not any(
        chosen for value, chosen, _ in select_options(page, "employer_id") if value == str(pending)
    )


@pytest.mark.browser
def test_typing_part_of_a_name_narrows_the_employers_in_the_browser(live_server, new_page):
    from playwright.sync_api import expect

    page = new_page()
    page.goto(f"{live_server}/register/person")
    employers = page.locator("select[name=employer_id] option")
    status = page.locator("#employer-status")
    page.get_by_label("按名称查找单位").fill("第一中学")
    page.locator("select[name=region]").select_option("410423")
    expect(employers).to_have_text(["请选择工作单位", "鲁山县第一中学"])
    expect(status).to_have_text("共列出 1 个单位。")
    page.locator("select[name=region]").select_option("410422")
    page.get_by_label("按名称查找单位").fill("叶县人民")
    expect(employers).to_have_text(["请选择工作单位", "叶县人民医院"])
    page.locator("select[name=employer_id]").select_option(label="叶县人民医院")
    page.get_by_label("按名称查找单位").fill("没有这个单位")
    expect(employers).to_have_count(1)
    expect(status).to_contain_text("没有符合条件")
