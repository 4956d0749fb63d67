"""The public registration pages refuse what the domain refuses, with the reason on the form."""

from sqlalchemy import func
from sqlalchemy import select
from stdnum.cn import uscc

from domain.accounts.users import User
from domain.organisations.records import Organisation
from tests.web.test_auth import in_english
from tests.web.test_auth import post_form
from tests.web.test_auth import text

SCHOOL_CODE = "91410400MA44L5XC7"


def lushan_water_authority(session_factory, clock) -> int:
    with session_factory() as s, s.begin():
        org = Organisation(
            kind="authority", name="鲁山县水利局", region_code="410423", status="active", created_at=clock()
        )
        s.add(org)
        s.flush()
        return org.id


def employer_form(authority_id: int, **changes) -> dict:
    values = {
        "kind": "employer",
        "name": "叶县第三高级中学",
        "region_code": "410422",
        "credit_code": SCHOOL_CODE + uscc.calc_check_digit(SCHOOL_CODE),
        "authority_id": authority_id,
        "expected_persons": 10,
        "admin_name": "王人事",
        "admin_username": "yx3gz",
        "password": "secret-123",
        "confirm": "secret-123",
    }
    return {**values, **changes}


def stored(session_factory, username: str) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).where(User.username == username))


def test_an_employer_cannot_pick_another_countys_authority(client, session_factory, clock):
    """Finding "jurisdiction holes": a 叶县 employer was stored under 鲁山县's water authority (R1)."""
    water = lushan_water_authority(session_factory, clock)
    page = text(post_form(in_english(client), "/register/organisation", employer_form(water)))
    assert "鲁山县水利局 is not an authority of 叶县 or of a level above it" in page
    assert stored(session_factory, "yx3gz") == 0


def test_the_registration_form_refuses_hidden_characters_in_names(client, session_factory):
    """Finding "text that lies": a name with NUL, ESC, BEL or U+202E was accepted by the form."""
    for field, value in (
        ("name", "叶县\x00中学"),
        ("admin_name", "王\x1b"),
        ("admin_username", "yx3\u202egz"),
    ):
        form = employer_form(0, **{field: value})
        page = text(post_form(in_english(client), "/register/organisation", form))
        assert "please retype the text without it" in page, field
    assert stored(session_factory, "yx3gz") == 0


def test_the_api_refuses_a_saved_filter_name_hiding_characters(login_as):
    """Finding "text that lies": the API took names with control characters too."""
    from tests.web.test_inbox_api import signed_in_api

    client, headers = signed_in_api(login_as, "yexian-reviewer")
    body = {"name": "逾期\u202e", "query": {"view": "queue"}}
    refused = client.post("/api/inbox/filters", json=body, headers=headers)
    assert refused.status_code == 422 and refused.get_json()["reason"] == "text_bidi_control"
    assert refused.get_json()["message"].startswith("name: ")
    assert client.get("/api/inbox/filters").get_json()["filters"] == []
