"""The notice centre: a user's and their groups' notices, an unread badge, read state kept per user."""

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select

from domain.accounts.passwords import hash_password
from domain.accounts.users import User
from domain.accounts.users import actor_for
from domain.notices.centre import NoticeRead
from domain.notices.centre import notices_for
from domain.notices.centre import unread_count
from domain.notices.records import Notice
from seed.demo import DEMO_PASSWORD
from tests.web.conftest import csrf_token

T0 = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)


def text(response) -> str:
    return response.get_data(as_text=True)


def add_notice(session_factory, recipient: str, title: str, minutes: int = 0, task_id=None) -> int:
    with session_factory() as session, session.begin():
        notice = Notice(
            recipient=recipient,
            kind="test",
            title=title,
            body=f"{title}的正文",
            task_id=task_id,
            created_at=T0 + timedelta(minutes=minutes),
        )
        session.add(notice)
        session.flush()
        return notice.id


def user(session_factory, username: str) -> User:
    with session_factory() as session:
        return session.scalars(select(User).where(User.username == username)).one()


def unread_of(session_factory, username: str) -> int:
    with session_factory() as session:
        return unread_count(session, actor_for(session, user(session_factory, username).id))


@pytest.fixture
def notices(app, session_factory) -> dict[str, int]:
    """Notices to 叶县's reviewer personally, to the county reviewers' group, to the office, and to 鲁山县."""
    reviewer = user(session_factory, "yexian-reviewer")
    with session_factory() as session, session.begin():
        session.execute(delete(Notice))  # start from an empty notice centre (the demo fills it)
        session.add(
            User(
                username="yexian-reviewer2",
                password_hash=hash_password(DEMO_PASSWORD),
                display_name="叶县人社局审核员二",
                organisation_id=reviewer.organisation_id,
                roles="reviewer",
                created_at=T0,
            )
        )
    office = reviewer.organisation_id
    return {
        "mine": add_notice(session_factory, f"u:{reviewer.id}", "您的申请已通过", 1, task_id=4242),
        "group": add_notice(session_factory, "g:hrss:410422:reviewer", "叶县督导通报", 2),
        "office": add_notice(session_factory, f"o:{office}:admin", "号段已用完", 3),
        "other": add_notice(session_factory, "g:hrss:410423:reviewer", "鲁山县督导通报", 4),
    }


def test_the_page_lists_my_and_my_groups_notices_newest_first(app, login_as, notices):
    browser = login_as("yexian-reviewer", into=app.test_client())
    page = text(browser.get("/notices"))
    assert "鲁山县督导通报" not in page
    positions = [page.index(title) for title in ("号段已用完", "叶县督导通报", "您的申请已通过")]
    assert positions == sorted(positions)
    assert 'href="/tasks/4242"' in page
    assert page.count('class="unread"') == 3
    assert 'id="nav-unread">3<' in page


def test_the_unread_badge_shows_on_every_page(app, login_as, notices):
    browser = login_as("yexian-reviewer", into=app.test_client())
    assert 'id="nav-unread">3<' in text(browser.get("/tasks"))
    lushan = login_as("lushan-reviewer", into=app.test_client())
    assert 'id="nav-unread">1<' in text(lushan.get("/tasks"))


def test_reading_a_group_notice_marks_it_for_me_only(app, login_as, notices, session_factory):
    first = login_as("yexian-reviewer", into=app.test_client())
    second = login_as("yexian-reviewer2", into=app.test_client())
    assert unread_of(session_factory, "yexian-reviewer2") == 1
    token = csrf_token(text(first.get("/notices")))
    response = first.post(f"/notices/{notices['group']}/read", data={"csrf_token": token})
    assert response.status_code == 302
    assert unread_of(session_factory, "yexian-reviewer") == 2
    assert unread_of(session_factory, "yexian-reviewer2") == 1
    page = text(second.get("/notices"))
    assert 'id="nav-unread">1<' in page and 'class="unread"' in page
    again = first.post(f"/notices/{notices['group']}/read", data={"csrf_token": token})
    assert again.status_code == 302
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(NoticeRead)) == 1


def test_another_groups_notice_cannot_be_marked(app, login_as, notices, session_factory):
    browser = login_as("yexian-reviewer", into=app.test_client())
    token = csrf_token(text(browser.get("/notices")))
    assert browser.post(f"/notices/{notices['other']}/read", data={"csrf_token": token}).status_code == 404
    assert browser.post("/notices/999999/read", data={"csrf_token": token}).status_code == 404
    assert browser.post(f"/notices/{notices['mine']}/read", data={}).status_code == 303  # expired: sent back
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(NoticeRead)) == 0
    assert unread_of(session_factory, "lushan-reviewer") == 1


def test_notices_page_by_keyset_newest_first(app, login_as, session_factory):
    applicant = user(session_factory, "yexian-hr")
    before = unread_of(session_factory, "yexian-hr")
    for number in range(35):
        add_notice(session_factory, f"u:{applicant.id}", f"第{number:02d}号通知", number)
    browser = login_as("yexian-hr", into=app.test_client())
    first = text(browser.get("/notices"))
    assert "第34号通知" in first and "第05号通知" in first and "第04号通知" not in first
    older = first.split('class="more" href="')[1].split('"')[0]
    second = text(browser.get(older.replace("&amp;", "&")))
    assert "第04号通知" in second and "第00号通知" in second and "第05号通知" not in second
    assert unread_of(session_factory, "yexian-hr") == before + 35


def test_not_signed_in_the_notice_centre_redirects(client, notices):
    assert client.get("/notices").status_code == 302


def test_older_notices_page_by_the_cursor_and_a_forged_cursor_is_refused(
    app, login_as, notices, session_factory
):
    reviewer = user(session_factory, "yexian-reviewer")
    with session_factory() as session:
        actor = actor_for(session, reviewer.id)
        first = notices_for(session, actor, limit=2)
        second = notices_for(session, actor, after=first.next_cursor, limit=2)
    assert [n.id for n in first.items] == [notices["office"], notices["group"]]
    assert [n.id for n in second.items] == [notices["mine"]] and second.next_cursor is None
    browser = login_as("yexian-reviewer", into=app.test_client())
    assert "您的申请已通过" in text(browser.get("/notices", query_string={"after": first.next_cursor}))
    assert browser.get("/notices", query_string={"after": "12:forged"}).status_code == 400
