"""In Chromium: a professional registers with an employer and the employer's HR approves from the inbox."""

import re

import pytest
from sqlalchemy import select
from stdnum.cn import ric

from domain.persons.records import Person
from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser
NEW_ID = "41042219920315002"
NEW_ID += ric.calc_check_digit(NEW_ID + "0")


def register(page, base_url: str, id_number: str) -> None:
    page.goto(f"{base_url}/register/person")
    page.locator("select[name=region]").select_option("410422")  # the picker asks the server for 叶县's
    page.locator("select[name=employer_id]").select_option(label="叶县人民医院")
    page.get_by_label("身份证号码").fill(id_number)
    page.get_by_label("姓名", exact=True).fill("周六")
    page.locator("select[name=title_level]").select_option(label="中级")
    page.get_by_label("职称系列").fill("卫生技术")
    page.get_by_label("密码", exact=True).fill("secret-1234")
    page.get_by_label("再次输入密码").fill("secret-1234")
    page.get_by_role("button", name="提交注册").click()


def test_person_registers_and_the_employer_approves_in_the_browser(live_server, new_page, session_factory):
    from playwright.sync_api import expect

    person = new_page()
    register(person, live_server, NEW_ID)
    person.wait_for_url(re.compile(r"/login"))
    expect(person.get_by_role("alert")).to_contain_text("已提交到您所在的单位")

    hr = new_page()
    sign_in(hr, live_server, "yexian-hr")
    hr.locator("nav.tabs").get_by_role("link", name=re.compile("^待认领")).click()
    hr.get_by_role("row").filter(has_text="个人注册：周六").get_by_role("link").click()
    hr.get_by_role("button", name="认领").click()
    hr.get_by_label("审批意见").fill("本单位在职人员")
    hr.get_by_role("button", name="通过", exact=True).click()
    expect(hr.get_by_role("alert")).to_contain_text("已办理")

    with session_factory() as s:
        registered = s.scalars(select(Person).where(Person.id_number == NEW_ID)).one()
    assert registered.status == "active" and registered.certificate_number


def test_a_mistyped_id_number_is_explained_and_nothing_is_stored(live_server, new_page, session_factory):
    from playwright.sync_api import expect

    page = new_page()
    wrong = NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")
    register(page, live_server, wrong)
    expect(page.get_by_role("alert")).to_contain_text("校验位")
    with session_factory() as s:
        assert s.scalars(select(Person).where(Person.id_number == wrong)).all() == []
