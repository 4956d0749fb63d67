"""Text that lies (probe finding 4): names, usernames and subjects are checked and normalised once.

`domain.text.clean_text` is the one rule; these tests reach it through the services the pages, the
API and the CLI call, on SQLite and on PostgreSQL (a NUL byte or an overlong value is an error of
the database there, and silently stored here).
"""

import pytest
from sqlalchemy import func
from sqlalchemy import select

from domain.accounts.users import User
from domain.organisations.records import Organisation
from domain.persons.records import Person
from domain.text import TextRefused
from domain.text import clean_text
from engine.errors import DiagramRefused
from engine.errors import InvalidCommand
from engine.runtime.definitions import deploy
from engine.runtime.models import ProcessInstance
from engine.tasks.start_data import MAX_DEPTH
from engine.tasks.start_data import parse_start_data
from services.processes import start_process
from services.registration import apply_as_person
from services.registration import apply_for_organisation
from tests.test_deploy import diagram
from tests.test_registration import authority
from tests.test_registration import employer_application
from tests.test_registration import valid_id

HIDDEN = {
    "\x00": "text_control",  # NUL
    "\x1b": "text_control",  # ESC
    "\x07": "text_control",  # BEL
    "\u202e": "text_bidi_control",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066": "text_bidi_control",  # LEFT-TO-RIGHT ISOLATE
}


@pytest.mark.parametrize("char", HIDDEN)
def test_hidden_characters_are_refused_with_where_they_are(char):
    with pytest.raises(TextRefused) as refused:
        clean_text(f"王{char}五", "name", 64)
    assert refused.value.code == HIDDEN[char]
    assert refused.value.params == {"field": "name", "position": 2, "char": f"U+{ord(char):04X}"}


def test_text_is_normalised_to_nfc_and_trimmed_and_bounded():
    assert clean_text("  Jose\u0301 \u3000", "name", 64) == "José"
    assert clean_text(None, "name", 64) == ""
    assert clean_text("第一行\r\n第二行\t", "opinion", 64, multiline=True) == "第一行\n第二行"
    with pytest.raises(TextRefused) as refused:
        clean_text("第一行\n第二行", "name", 64)
    assert refused.value.code == "text_control"
    with pytest.raises(TextRefused) as refused:
        clean_text("长" * 65, "name", 64)
    assert refused.value.code == "text_too_long" and refused.value.params["length"] == 65


def count(session_factory, model, *where) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.parametrize("char", HIDDEN)
def test_an_organisation_application_with_hidden_characters_stores_nothing(rt, session_factory, clock, char):
    """Finding "text that lies": NUL, ESC, BEL and U+202E were stored in names and usernames."""
    parent = authority(session_factory, clock)
    for changes in (
        {"name": f"叶县{char}中学"},
        {"admin_name": f"王{char}"},
        {"admin_username": f"yx{char}gz"},
    ):
        with pytest.raises(TextRefused) as refused:
            apply_for_organisation(rt, employer_application(parent, **changes))
        assert refused.value.params["field"] == next(iter(changes))
    assert count(session_factory, Organisation, Organisation.name.like("叶县%中学")) == 0
    assert count(session_factory, User, User.username.like("yx%")) == 0


def test_an_application_is_stored_normalised(rt, session_factory, clock):
    parent = authority(session_factory, clock)
    apply_for_organisation(
        rt,
        employer_application(
            parent, name=" 叶县第二高级中学 ", admin_name="Jose\u0301", admin_username=" yx2gz "
        ),
    )
    with session_factory() as s:
        org = s.scalar(select(Organisation).where(Organisation.name == "叶县第二高级中学"))
        assert org is not None and org.contact_name == "José"
        assert s.scalar(select(User.display_name).where(User.username == "yx2gz")) == "José"


def test_a_person_with_hidden_characters_in_the_name_stores_nothing(rt, session_factory, world):
    with session_factory() as s:
        hospital = s.scalar(select(Organisation.id).where(Organisation.name == "叶县人民医院"))
        s.get(Organisation, hospital).status = "active"
        s.commit()
    with pytest.raises(TextRefused):
        apply_as_person(rt, person_application(hospital, name="\u202e三张"))
    assert count(session_factory, Person) == 0


def person_application(employer_id, **changes):
    from domain.registration.applications import PersonApplication

    values = dict(
        id_number=valid_id(),
        name="张三",
        employer_id=employer_id,
        title_level="intermediate",
        title_series="卫生",
        password="secret-123",
    )
    return PersonApplication(**{**values, **changes})


def test_a_start_refuses_a_subject_too_long_or_hiding_characters(rt, world, session_factory):
    """Finding "text that lies": `ceflow start --data` stored a 120 000-character subject."""
    applicant = world["applicant"]
    for subject, code in (("长" * 120_000, "start_data_too_big"), ("长" * 300, "text_too_long")):
        with pytest.raises((TextRefused, InvalidCommand)) as refused:
            start_process(rt, "demo_approval", applicant, {"subject": subject})
        assert refused.value.code == code
    with pytest.raises(TextRefused) as refused:
        start_process(rt, "demo_approval", applicant, {"subject": "报销\x00申请"})
    assert refused.value.code == "text_control"
    assert count(session_factory, ProcessInstance) == 0


def test_a_start_refuses_deep_data_a_path_as_key_and_an_impossible_user(rt, world, session_factory):
    """Finding "text that lies": deep JSON, `../../etc/passwd` as a key and a huge user id got through."""
    deep: dict = {}
    for _ in range(MAX_DEPTH + 5):
        deep = {"a": deep}
    with pytest.raises(InvalidCommand) as refused:
        start_process(rt, "demo_approval", world["applicant"], deep)
    assert refused.value.code == "start_data_too_deep"
    with pytest.raises(InvalidCommand) as refused:
        start_process(rt, "../../etc/passwd", world["applicant"], {})
    assert refused.value.code == "bad_process_key"
    with pytest.raises(InvalidCommand) as refused:
        start_process(rt, "demo_approval", 10**30, {"subject": "x"})
    assert refused.value.code == "no_active_user"
    assert count(session_factory, ProcessInstance) == 0


def test_start_data_as_json_text_is_bounded_in_size_and_depth():
    with pytest.raises(InvalidCommand) as refused:
        parse_start_data("[" * 5_000 + "]" * 5_000)  # deeper than Python's recursion limit
    assert refused.value.code == "start_data_too_deep"
    with pytest.raises(InvalidCommand) as refused:
        parse_start_data("[" * 60_000 + "]" * 60_000)
    assert refused.value.code == "start_data_too_big"
    assert parse_start_data('{"subject": "报销"}') == {"subject": "报销"}


def test_a_diagram_whose_process_id_is_not_a_plain_identifier_is_refused(rt):
    """Finding "text that lies": a process key must be a plain identifier, never a path."""
    with pytest.raises(DiagramRefused) as refused:
        deploy(rt, diagram().replace(b'id="small"', b'id="a.b-c"'), "test.bpmn", "test")
    assert any("plain identifier" in reason for _element, reason in refused.value.problems)
