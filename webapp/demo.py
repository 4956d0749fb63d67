"""Pingdingshan demo data: HRSS offices and their staff, an employer, pending applications."""

from sqlalchemy import select

from domain.accounts import User
from domain.accounts import actor_for
from domain.organisations import Organisation
from domain.passwords import hash_password
from domain.regions import PINGDINGSHAN_REGIONS
from engine.commands import complete_task
from engine.commands import start_instance
from engine.inbox import my_tasks
from engine.runtime import Runtime
from engine.runtime import unit_of_work

DEMO_PASSWORD = "demo1234"
SLUGS = {
    "410000": "henan",
    "410400": "pds",
    "410402": "xinhua",
    "410403": "weidong",
    "410404": "shilong",
    "410411": "zhanhe",
    "410421": "baofeng",
    "410422": "yexian",
    "410423": "lushan",
    "410425": "jiaxian",
    "410481": "wugang",
    "410482": "ruzhou",
    "410471": "gaoxin",
    "410472": "shifanqu",
}
DEMO_LOGINS = [
    ("系统管理员 administrator", "admin"),
    ("平顶山市人社局审核员 city reviewer", "pds-reviewer"),
    ("平顶山市人社局审批人 city approver", "pds-approver"),
    ("叶县人社局审核员 county reviewer", "yexian-reviewer"),
    ("鲁山县人社局审核员 county reviewer", "lushan-reviewer"),
    ("叶县人民医院人事 employer HR", "yexian-hr"),
]
PENDING = [
    ("叶县人民医院2025年度继续教育学时认定", "yexian-hr"),
    ("鲁山县第一中学2025年度继续教育学时认定", "lushan-hr"),
]


def load_demo_data(rt: Runtime) -> str:
    """Create the demo records once; a second call changes nothing."""
    with unit_of_work(rt) as session:
        if session.execute(select(User.id).where(User.username == "admin")).first():
            return "demo data already loaded"
        password = hash_password(DEMO_PASSWORD)
        now = rt.clock()
        users = {}
        for code, name, _level, _parent in PINGDINGSHAN_REGIONS:
            org = Organisation(
                kind="hrss", name=f"{name}人力资源和社会保障局", region_code=code, created_at=now
            )
            session.add(org)
            session.flush()
            for role, title in (("reviewer", "审核员"), ("approver", "审批人")):
                username = f"{SLUGS[code]}-{role}"
                users[username] = User(
                    username=username,
                    password_hash=password,
                    display_name=f"{name}人社局{title}",
                    organisation_id=org.id,
                    roles=role,
                    created_at=now,
                )
        for code, employer in (("410422", "叶县人民医院"), ("410423", "鲁山县第一中学")):
            org = Organisation(kind="employer", name=employer, region_code=code, created_at=now)
            session.add(org)
            session.flush()
            username = f"{SLUGS[code]}-hr"
            users[username] = User(
                username=username,
                password_hash=password,
                display_name=f"{employer}人事科",
                organisation_id=org.id,
                roles="hr",
                created_at=now,
            )
        users["admin"] = User(
            username="admin", password_hash=password, display_name="系统管理员", is_admin=True, created_at=now
        )
        session.add_all(users.values())
        session.flush()
        ids = {name: user.id for name, user in users.items()}
    for subject, username in PENDING:
        _submit_demo_application(rt, ids[username], subject)
    return f"demo data loaded: {len(ids)} accounts, {len(PENDING)} pending applications"


def _submit_demo_application(rt: Runtime, user_id: int, subject: str) -> None:
    with rt.session_factory() as session:
        actor = actor_for(session, user_id)
    instance_id = start_instance(rt, "demo_approval", actor, {"subject": subject})
    with rt.session_factory() as session:
        task = next(t for t in my_tasks(session, actor, limit=50).items if t.instance_id == instance_id)
    complete_task(
        rt, actor, task.id, {"subject": subject, "description": "本年度专业技术人员继续教育学时认定申请"}
    )
