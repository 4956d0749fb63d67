"""The applicant's side (我的申请): follow an application, fix a returned one, withdraw, read why."""

import re
import zlib

from sqlalchemy import select
from stdnum.cn import uscc

from domain.accounts.users import User
from domain.organisations.records import Organisation
from engine.runtime.models import AuditEvent
from engine.runtime.models import HumanTask
from engine.runtime.models import ProcessInstance
from seed.demo import DEMO_PASSWORD
from tests.web.conftest import csrf_token
from tests.web.test_auth import text

PASSWORD = "secret-1234"
WRONG_BODY = "91410422MA44L5XC7"
RIGHT_BODY = "91410422MA44L5XD6"
WRONG_CODE = WRONG_BODY + uscc.calc_check_digit(WRONG_BODY)
RIGHT_CODE = RIGHT_BODY + uscc.calc_check_digit(RIGHT_BODY)


def org_id_by_name(session_factory, name: str, region_code: str = "410400") -> int:
    with session_factory() as s:
        return s.scalar(
            select(Organisation.id).where(Organisation.name == name, Organisation.region_code == region_code)
        )


def organisation_form(session_factory, **changes) -> dict:
    """The public registration form of a new 叶县 employer under the city's education bureau."""
    values = {
        "kind": "employer",
        "name": "叶县第三高级中学",
        "region_code": "410422",
        "credit_code": WRONG_CODE,
        "authority_id": org_id_by_name(session_factory, "平顶山市教育局"),
        "industry": "教育",
        "expected_persons": 12,
        "admin_name": "王人事",
        "admin_username": "yx3gz",
        "contact_phone": "0375-8123456",
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    return {**values, **changes}


def register(app, session_factory, **changes) -> int:
    """Register an organisation through the public page; return its instance id."""
    client = app.test_client()
    if "admin_username" in changes and "credit_code" not in changes:  # another applicant, another code
        body = f"91410422MA{zlib.crc32(changes['admin_username'].encode()) % 10**7:07d}"
        changes["credit_code"] = body + uscc.calc_check_digit(body)
    form = organisation_form(session_factory, **changes)
    token = csrf_token(text(client.get("/register/organisation")))
    response = client.post("/register/organisation", data={**form, "csrf_token": token})
    assert response.status_code == 302, text(response)
    with session_factory() as s:
        org = s.scalars(
            select(Organisation)
            .join(User, User.id == Organisation.admin_user_id)
            .where(User.username == form["admin_username"])
        ).one()
        return s.scalar(
            select(ProcessInstance.id).where(ProcessInstance.business_key == f"organisation_id:{org.id}")
        )


def open_task(session_factory, instance_id: int) -> HumanTask:
    with session_factory() as s:
        return s.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
        ).one()


def post_on(client, page: str, path: str, data: dict, **options):
    token = csrf_token(text(client.get(page)))
    return client.post(path, data={"csrf_token": token, **data}, **options)


def review(client, task_id: int, action: str, opinion: str, **extra):
    """Claim the review step if it waits in a queue, then decide on it from its page."""
    page = f"/tasks/{task_id}"
    if f'action="/tasks/{task_id}/claim"' in text(client.get(page)):
        post_on(client, page, f"/tasks/{task_id}/claim", {})
    path = f"/tasks/{task_id}/return" if action == "return" else f"/tasks/{task_id}/complete"
    return post_on(client, page, path, {"action": action, "opinion": opinion, **extra})


def audit(session_factory, instance_id: int) -> list[tuple[str, str]]:
    with session_factory() as s:
        rows = s.execute(
            select(AuditEvent.action, AuditEvent.opinion)
            .where(AuditEvent.instance_id == instance_id)
            .order_by(AuditEvent.id)
        )
        return [(action, opinion or "") for action, opinion in rows]


def organisation(session_factory, name: str) -> Organisation:
    with session_factory() as s:
        return s.scalars(select(Organisation).where(Organisation.name == name)).one()


def test_a_returned_organisation_fixes_its_credit_code_and_the_history_says_resubmitted(
    app, login_as, session_factory
):
    iid = register(app, session_factory)
    reviewer = login_as("yexian-reviewer", into=app.test_client())
    review(reviewer, open_task(session_factory, iid).id, "return", "统一社会信用代码与营业执照不符")

    applicant = app.test_client()
    token = csrf_token(text(applicant.get("/login")))
    landed = applicant.post("/login", data={"username": "yx3gz", "password": PASSWORD, "csrf_token": token})
    assert landed.headers["Location"] == "/applications"  # a pending organisation's admin lands on it
    listing = text(applicant.get("/applications"))
    assert "单位注册：叶县第三高级中学" in listing and "等待您办理" in listing

    detail = text(applicant.get(f"/applications/{iid}"))
    assert "统一社会信用代码与营业执照不符" in detail and WRONG_CODE in detail
    correction = open_task(session_factory, iid)
    assert applicant.get(f"/tasks/{correction.id}").headers["Location"] == f"/applications/{iid}/correct"
    form_page = text(applicant.get(f"/applications/{iid}/correct"))
    for shown in (WRONG_CODE, "叶县第三高级中学", "王人事", "教育", 'selected value="410422"'):
        assert shown in form_page, shown

    fixed = {
        key: value
        for key, value in organisation_form(session_factory).items()
        if key not in ("admin_username", "password", "confirm")
    }
    bad = post_on(
        applicant,
        f"/applications/{iid}/correct",
        f"/applications/{iid}/correct",
        fixed | {"credit_code": "123"},
    )
    assert "统一社会信用代码" in text(bad) and open_task(session_factory, iid).id == correction.id
    renamed = fixed | {"credit_code": RIGHT_CODE, "name": "叶县第三高级中学（更正）"}
    done = post_on(applicant, f"/applications/{iid}/correct", f"/applications/{iid}/correct", renamed)
    assert done.status_code == 302

    corrected = organisation(session_factory, "叶县第三高级中学（更正）")
    assert corrected.uscc == RIGHT_CODE and corrected.status == "pending"
    assert [a for a, _ in audit(session_factory, iid)][-2:] == ["return", "resubmit"]
    again = open_task(session_factory, iid)
    assert again.spec_name == "review" and again.subject == "单位注册：叶县第三高级中学（更正）"
    with session_factory() as s:
        assert s.get(ProcessInstance, iid).subject == "单位注册：叶县第三高级中学（更正）"
    history = text(applicant.get(f"/applications/{iid}"))
    assert "重新提交" in history

    reviewer_page = text(reviewer.get(f"/tasks/{again.id}"))
    for checked in (RIGHT_CODE, "平顶山市教育局", "教育", "王人事（yx3gz）", "用人单位", "叶县（410422）"):
        assert checked in reviewer_page, checked
    review(reviewer, again.id, "approve", "同意")
    assert organisation(session_factory, "叶县第三高级中学（更正）").status == "active"


def test_a_correction_taking_another_organisations_credit_code_is_refused_and_changes_nothing(
    app, login_as, session_factory
):
    iid = register(app, session_factory)
    register(app, session_factory, name="叶县第四高级中学", admin_username="yx4gz", credit_code=RIGHT_CODE)
    reviewer = login_as("yexian-reviewer", into=app.test_client())
    review(reviewer, open_task(session_factory, iid).id, "return", "信用代码有误")
    applicant = login_as("yx3gz", into=app.test_client(), password=PASSWORD)
    form = organisation_form(session_factory, credit_code=RIGHT_CODE)
    page = text(post_on(applicant, f"/applications/{iid}/correct", f"/applications/{iid}/correct", form))
    assert f"统一社会信用代码 {RIGHT_CODE} 已被注册。" in page
    assert organisation(session_factory, "叶县第三高级中学").uscc == WRONG_CODE
    assert open_task(session_factory, iid).spec_name == "submit"


def test_withdrawing_asks_first_and_then_closes_the_application(app, login_as, session_factory):
    iid = register(app, session_factory)
    applicant = login_as("yx3gz", into=app.test_client(), password=PASSWORD)
    page = f"/applications/{iid}"
    assert 'data-confirm="撤回“单位注册：叶县第三高级中学”' in text(applicant.get(page))

    asked = text(post_on(applicant, page, f"{page}/withdraw", {"reason": "重复申请"}))
    assert "确认撤回申请？" in asked and 'name="confirmed" value="1"' in asked and "重复申请" in asked
    with session_factory() as s:
        assert s.get(ProcessInstance, iid).status == "running"

    done = post_on(applicant, page, f"{page}/withdraw", {"reason": "重复申请", "confirmed": "1"})
    assert done.status_code == 302
    with session_factory() as s:
        assert s.get(ProcessInstance, iid).status == "withdrawn"
    assert organisation(session_factory, "叶县第三高级中学").status == "withdrawn"
    assert audit(session_factory, iid)[-1] == ("withdraw", "重复申请")
    assert 'id="withdraw"' not in text(applicant.get(page))  # nothing left to withdraw


def test_nobody_else_opens_corrects_or_withdraws_an_application(app, login_as, session_factory):
    iid = register(app, session_factory)
    for username in ("yexian-hr", "yexian-reviewer"):
        other = login_as(username, into=app.test_client())
        assert other.get(f"/applications/{iid}").status_code == 404
        assert other.get(f"/applications/{iid}/correct").status_code == 404
        withdrawn = post_on(other, "/applications", f"/applications/{iid}/withdraw", {"confirmed": "1"})
        assert withdrawn.status_code == 404
    with session_factory() as s:
        assert s.get(ProcessInstance, iid).status == "running"


def test_a_rejected_organisation_signs_in_and_reads_why_but_a_wrong_password_learns_nothing(
    app, login_as, session_factory
):
    iid = register(app, session_factory)
    reviewer = login_as("yexian-reviewer", into=app.test_client())
    task_id = open_task(session_factory, iid).id
    review(reviewer, task_id, "reject", "非法人单位，不予注册", confirmed="1")
    assert organisation(session_factory, "叶县第三高级中学").status == "rejected"

    stranger = app.test_client()
    token = csrf_token(text(stranger.get("/login")))
    wrong = stranger.post("/login", data={"username": "yx3gz", "password": "wrong-pass", "csrf_token": token})
    assert "用户名或密码错误" in text(wrong) and "非法人单位" not in text(wrong)
    assert stranger.get("/login/application").headers["Location"] == "/login"

    applicant = app.test_client()
    token = csrf_token(text(applicant.get("/login")))
    right = applicant.post("/login", data={"username": "yx3gz", "password": PASSWORD, "csrf_token": token})
    assert right.headers["Location"] == "/login/application"
    page = text(applicant.get("/login/application"))
    assert "未通过" in page and "非法人单位，不予注册" in page and "叶县第三高级中学" in page
    assert "用户名或密码错误" not in page
    assert applicant.get("/tasks").headers["Location"].startswith("/login")  # that page and nothing else
    assert applicant.get(f"/applications/{iid}").headers["Location"].startswith("/login")


def test_a_terminated_application_reads_as_terminated_by_whom_and_why(app, login_as, session_factory):
    iid = register(app, session_factory)
    task_id = open_task(session_factory, iid).id
    admin = login_as("admin", into=app.test_client())
    page = f"/tasks/{task_id}"
    asked = text(post_on(admin, page, f"{page}/terminate", {"opinion": "重复注册"}))
    assert "确认终止流程？" in asked and "单位注册：叶县第三高级中学" in asked
    with session_factory() as s:
        assert s.get(ProcessInstance, iid).status == "running"
    post_on(admin, page, f"{page}/terminate", {"opinion": "重复注册", "confirmed": "1"})
    assert organisation(session_factory, "叶县第三高级中学").status == "terminated"
    closed = text(admin.get(page))
    assert re.search(r"流程已由系统管理员于[\d\- :]+终止。\s*理由：重复注册", closed)
    assert "已由—于" not in closed

    applicant = app.test_client()
    token = csrf_token(text(applicant.get("/login")))
    applicant.post("/login", data={"username": "yx3gz", "password": PASSWORD, "csrf_token": token})
    assert "已终止" in text(applicant.get("/login/application"))
    directory = text(admin.get("/organisations?q=叶县第三高级中学"))
    assert "已终止" in directory and DEMO_PASSWORD not in directory


def test_a_returned_person_corrects_the_name_and_the_subject_follows(app, login_as, session_factory):
    from tests.web.test_review_page import id_number
    from tests.web.test_review_page import person_applies

    number = id_number("41042219920315002")
    iid = person_applies(app, session_factory, number, "周六")
    hr = login_as("yexian-hr", into=app.test_client())
    review(hr, open_task(session_factory, iid).id, "return", "姓名与身份证不一致")
    person = login_as(number, into=app.test_client(), password=PASSWORD)
    step = open_task(session_factory, iid)
    page = text(person.get(f"/tasks/{step.id}"))
    assert 'value="周六"' in page and "姓名与身份证不一致" in page
    data = {"action": "approve", "name": "周陆", "title_level": "intermediate", "title_series": "卫生技术"}
    assert post_on(person, f"/tasks/{step.id}", f"/tasks/{step.id}/complete", data).status_code == 302
    assert [a for a, _ in audit(session_factory, iid)][-2:] == ["return", "resubmit"]
    again = open_task(session_factory, iid)
    assert again.spec_name == "review" and again.subject == "个人注册：周陆"
    assert "重新提交" in text(person.get(f"/applications/{iid}"))


def test_a_returned_person_moves_to_the_right_employer_whose_hr_reviews_it_next(
    app, login_as, session_factory
):
    from domain.organisations.records import OrganisationKind
    from domain.persons.records import Person
    from tests.web.test_review_page import id_number
    from tests.web.test_review_page import person_applies

    number = id_number("41042219920315003")
    iid = person_applies(app, session_factory, number, "周七")
    hr = login_as("yexian-hr", into=app.test_client())
    review(hr, open_task(session_factory, iid).id, "return", "本院无此人，请选择所在单位")
    with session_factory() as s:
        hospital = org_id_by_name(session_factory, "叶县人民医院", "410422")
        other = s.scalars(
            select(Organisation)
            .where(
                Organisation.kind == OrganisationKind.EMPLOYER,
                Organisation.status == "active",
                Organisation.region_code == "410422",
                Organisation.id != hospital,
            )
            .order_by(Organisation.id)
        ).first()
        hrss = s.scalar(
            select(Organisation.id).where(Organisation.kind == "hrss", Organisation.region_code == "410422")
        )
    person = login_as(number, into=app.test_client(), password=PASSWORD)
    step = open_task(session_factory, iid)
    page = text(person.get(f"/tasks/{step.id}"))
    assert 'id="employer-search"' in page and f'<option selected value="{hospital}">' in page
    found = text(person.get(f"/tasks/{step.id}", query_string={"region": "410422", "q": other.name}))
    assert f'value="{other.id}">{other.name}</option>' in found  # the search without JavaScript

    data = {"action": "approve", "employer_id": str(hrss), "name": "周七", "title_level": "intermediate"}
    refused = post_on(person, f"/tasks/{step.id}", f"/tasks/{step.id}/complete", data, follow_redirects=True)
    assert "请选择您所在的单位。" in text(refused)  # an HRSS is no employer: refused, said plainly
    assert open_task(session_factory, iid).id == step.id  # nothing moved, the step waits
    with session_factory() as s:
        assert s.scalar(select(Person.employer_id).where(Person.id_number == number)) == hospital

    data["employer_id"] = str(other.id)
    assert post_on(person, f"/tasks/{step.id}", f"/tasks/{step.id}/complete", data).status_code == 302
    again = open_task(session_factory, iid)
    assert again.spec_name == "review" and f"o:{other.id}:hr" in again.candidates.split()
    assert f"o:{hospital}:hr" not in again.candidates.split()
    with session_factory() as s:
        moved = s.scalars(select(Person).where(Person.id_number == number)).one()
        assert (moved.employer_id, moved.region_code) == (other.id, other.region_code)
