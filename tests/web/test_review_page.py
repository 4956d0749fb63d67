"""The reviewer's side: the task page shows what the rule asks to check, warns where data looks wrong, and
asks before anything that cannot be undone (不通过, 终止, bulk actions)."""

from stdnum.cn import ric

from domain.registration.applications import PersonApplication
from engine.runtime.models import ProcessInstance
from services.registration import apply_as_person
from tests.web.conftest import csrf_token
from tests.web.test_applications import open_task
from tests.web.test_applications import org_id_by_name
from tests.web.test_applications import post_on
from tests.web.test_applications import register
from tests.web.test_auth import text

CHECK = 'id="warnings"'


def claimed_page(client, task_id: int) -> str:
    page = f"/tasks/{task_id}"
    if f'action="/tasks/{task_id}/claim"' in text(client.get(page)):
        post_on(client, page, f"/tasks/{task_id}/claim", {})
    return text(client.get(page))


def id_number(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


def person_applies(app, session_factory, number: str, name: str = "周六") -> int:
    """A professional applies to 叶县人民医院; return the instance id."""
    employer = org_id_by_name(session_factory, "叶县人民医院", "410422")
    application = PersonApplication(
        id_number=number,
        name=name,
        employer_id=employer,
        title_level="intermediate",
        title_series="卫生技术",
        password="secret-1234",
    )
    return apply_as_person(app.extensions["ceflow.runtime"], application)


def test_a_second_organisation_of_the_same_name_in_the_region_is_flagged(app, login_as, session_factory):
    iid = register(app, session_factory, name="叶县人民医院", admin_username="yxrmyy2")
    reviewer = login_as("yexian-reviewer", into=app.test_client())
    page = claimed_page(reviewer, open_task(session_factory, iid).id)
    assert CHECK in page and "叶县 已有同名单位“叶县人民医院”（已注册）" in page
    assert 'value="approve"' in page  # a warning informs: the decision stays open

    unique = register(app, session_factory, name="叶县第五高级中学", admin_username="yx5gz")
    assert CHECK not in claimed_page(reviewer, open_task(session_factory, unique).id)


def test_the_person_review_shows_the_id_number_and_warns_about_its_area_code_and_birth_year(
    app, login_as, session_factory
):
    hr = login_as("yexian-hr", into=app.test_client())
    plain = person_applies(app, session_factory, id_number("41042219920315002"), "周六")
    page = claimed_page(hr, open_task(session_factory, plain).id)
    for shown in (id_number("41042219920315002"), "叶县人民医院", "中级", "卫生技术", "1992-03-15"):
        assert shown in page, shown
    assert CHECK not in page

    before_its_county = person_applies(app, session_factory, id_number("41048219600101001"), "吴七")
    page = claimed_page(hr, open_task(session_factory, before_its_county).id)
    assert "地区码 410482 在出生年份 1960 年尚未设立" in page

    child = person_applies(app, session_factory, id_number("41042220150101001"), "郑八")
    page = claimed_page(hr, open_task(session_factory, child).id)
    assert "出生年份 2015 年与在职专业技术人员的年龄不符" in page


def test_rejecting_asks_first_naming_what_happens(app, login_as, session_factory):
    iid = register(app, session_factory)
    reviewer = login_as("yexian-reviewer", into=app.test_client())
    task_id = open_task(session_factory, iid).id
    page = claimed_page(reviewer, task_id)
    assert 'data-confirm="不通过“单位注册：叶县第三高级中学”：流程到此结束' in page
    asked = post_on(
        reviewer, f"/tasks/{task_id}", f"/tasks/{task_id}/complete", {"action": "reject", "opinion": "非法人"}
    )
    body = text(asked)
    assert "确认不通过该申请？" in body and 'name="confirmed" value="1"' in body and "非法人" in body
    with session_factory() as s:
        assert s.get(ProcessInstance, iid).status == "running"
    token = csrf_token(body)
    confirmed = {"csrf_token": token, "action": "reject", "opinion": "非法人", "confirmed": "1"}
    assert reviewer.post(f"/tasks/{task_id}/complete", data=confirmed).status_code == 302
    with session_factory() as s:
        assert s.get(ProcessInstance, iid).status == "rejected"


def test_bulk_actions_list_what_they_will_do_before_doing_it(app, login_as, session_factory):
    first = register(app, session_factory)
    second = register(app, session_factory, name="叶县第六高级中学", admin_username="yx6gz")
    reviewer = login_as("yexian-reviewer", into=app.test_client())
    ids = [open_task(session_factory, iid).id for iid in (first, second)]
    page = text(reviewer.get("/tasks?view=queue"))
    assert 'data-confirm="批量通过所选待办' in page
    form = {"action": "approve", "task_id": ids, "opinion": "同意", "back": "/tasks?view=queue"}
    asked = text(post_on(reviewer, "/tasks?view=queue", "/tasks/bulk", form))
    assert "批量通过所选 2 项待办" in asked
    assert "单位注册：叶县第三高级中学" in asked and "单位注册：叶县第六高级中学" in asked
    with session_factory() as s:
        assert {s.get(ProcessInstance, iid).status for iid in (first, second)} == {"running"}
    done = post_on(reviewer, "/tasks?view=queue", "/tasks/bulk", form | {"confirmed": "1"})
    assert done.status_code == 302
    with session_factory() as s:
        assert {s.get(ProcessInstance, iid).status for iid in (first, second)} == {"completed"}


def test_countersign_is_offered_on_the_registration_reviews(app, login_as, session_factory):
    iid = register(
        app, session_factory, name="平顶山市第九中学", region_code="410400", admin_username="pds9z"
    )
    reviewer = login_as("pds-reviewer", into=app.test_client())
    page = claimed_page(reviewer, open_task(session_factory, iid).id)
    assert 'id="countersign"' in page  # the city office has a colleague to ask (its approver)
    person = person_applies(app, session_factory, id_number("41042219920315002"))
    for instance_id in (iid, person):  # both diagrams allow it on their review step
        assert "countersign" in open_task(session_factory, instance_id).allowed_actions.split(",")
