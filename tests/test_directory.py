"""The directory follows R15: each role lists exactly its records, and any other record is NotVisible."""

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import event

from domain.accounts.users import User
from domain.accounts.users import actor_for
from domain.organisations.directory import home_of
from domain.organisations.directory import organisation_detail
from domain.organisations.directory import search_organisations
from domain.organisations.directory import visible_regions
from domain.organisations.jurisdiction import NotVisible
from domain.organisations.records import Organisation
from domain.organisations.shipped_regions import seed_regions
from domain.persons.directory import mask_id_number
from domain.persons.directory import person_detail
from domain.persons.directory import search_persons
from domain.persons.records import Person
from infra import keyset
from infra.keyset import BadCursor

# ID numbers of the three persons (the directory does not check them; registration does)
ID_YEXIAN = "410422198801010011"
ID_LUSHAN = "410423199002020024"
ID_YEXIAN_PENDING = "41042219850303003X"


@dataclass
class World:
    orgs: dict[str, int]
    persons: dict[str, int]
    users: dict[str, int]


def _org(session, clock, key, orgs, **fields) -> None:
    org = Organisation(created_at=clock(), status="active", **fields)
    session.add(org)
    session.flush()
    orgs[key] = org.id


def _user(session, clock, key, users, organisation_id=None, roles="") -> int:
    user = User(
        username=key,
        password_hash="x",
        display_name=key,
        organisation_id=organisation_id,
        roles=roles,
        created_at=clock(),
    )
    session.add(user)
    session.flush()
    users[key] = user.id
    return user.id


def _person(session, clock, key, persons, **fields) -> None:
    person = Person(gender="M", birth_date=date(1988, 1, 1), created_at=clock(), **fields)
    session.add(person)
    session.flush()
    persons[key] = person.id


@pytest.fixture
def jurisdiction(session_factory, clock) -> World:
    """City HRSS 410400, county HRSS 410422 and 410423, an authority in 410422 with one employer under it,
    an employer in 410423 outside it, a city CE base, a province HRSS, and persons in both employers."""
    orgs, persons, users = {}, {}, {}
    with session_factory() as session, session.begin():
        seed_regions(session)
        for key, code in [
            ("province", "410000"),
            ("city", "410400"),
            ("yexian", "410422"),
            ("lushan", "410423"),
        ]:
            _org(session, clock, key, orgs, kind="hrss", name=f"{code}人社局", region_code=code)
        _org(session, clock, "authority", orgs, kind="authority", name="叶县卫生健康委", region_code="410422")
        _org(
            session,
            clock,
            "hospital",
            orgs,
            kind="employer",
            name="叶县人民医院",
            region_code="410422",
            authority_id=orgs["authority"],
            uscc="91410422MA0000001X",
        )
        _org(session, clock, "school", orgs, kind="employer", name="鲁山县第一中学", region_code="410423")
        _org(
            session,
            clock,
            "cebase",
            orgs,
            kind="institution",
            name="平顶山继续教育基地",
            region_code="410400",
        )
        for key in ("city", "yexian", "lushan", "authority", "hospital", "school", "cebase"):
            _user(session, clock, key, users, orgs[key], roles="reviewer")
        doctor = _user(session, clock, "doctor", users)
        _person(
            session,
            clock,
            "doctor",
            persons,
            id_number=ID_YEXIAN,
            name="赵医生",
            employer_id=orgs["hospital"],
            region_code="410422",
            title_level="intermediate",
            status="active",
            certificate_number="豫继教4104220001",
            user_id=doctor,
        )
        _person(
            session,
            clock,
            "nurse",
            persons,
            id_number=ID_YEXIAN_PENDING,
            name="钱护士",
            employer_id=orgs["hospital"],
            region_code="410422",
            title_level="junior",
            status="pending",
        )
        _person(
            session,
            clock,
            "teacher",
            persons,
            id_number=ID_LUSHAN,
            name="孙老师",
            employer_id=orgs["school"],
            region_code="410423",
            title_level="senior_associate",
            status="active",
        )
    return World(orgs, persons, users)


@pytest.fixture
def as_role(session_factory, jurisdiction):
    """Return a function: role name -> its Actor."""

    def get(role: str):
        with session_factory() as session:
            return actor_for(session, jurisdiction.users[role])

    return get


# role -> (organisations it sees, persons it sees)
MATRIX = {
    "city": (
        {"city", "yexian", "lushan", "authority", "hospital", "school", "cebase"},
        {"doctor", "nurse", "teacher"},
    ),
    "yexian": ({"yexian", "authority", "hospital"}, {"doctor", "nurse"}),
    "authority": ({"authority", "hospital"}, {"doctor", "nurse"}),
    "hospital": ({"hospital"}, {"doctor", "nurse"}),
    "cebase": ({"cebase"}, set()),
    "doctor": ({"hospital"}, {"doctor"}),
}


def _names(ids: dict[str, int], found) -> set[str]:
    by_id = {value: key for key, value in ids.items()}
    return {by_id[row.id] for row in found}


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_each_role_lists_exactly_its_jurisdiction(session_factory, jurisdiction, as_role, role):
    actor = as_role(role)
    organisations, persons = MATRIX[role]
    with session_factory() as session:
        assert _names(jurisdiction.orgs, search_organisations(session, actor).items) == organisations
        assert _names(jurisdiction.persons, search_persons(session, actor).items) == persons


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_each_role_opens_its_records_and_no_other(session_factory, jurisdiction, as_role, role):
    actor = as_role(role)
    organisations, persons = MATRIX[role]
    with session_factory() as session:
        for key, org_id in jurisdiction.orgs.items():
            if key in organisations:
                assert organisation_detail(session, actor, org_id).id == org_id
            else:
                with pytest.raises(NotVisible):
                    organisation_detail(session, actor, org_id)
        for key, person_id in jurisdiction.persons.items():
            if key in persons:
                assert person_detail(session, actor, person_id).id == person_id
            else:
                with pytest.raises(NotVisible):
                    person_detail(session, actor, person_id)


def test_a_record_that_does_not_exist_is_not_visible_either(session_factory, jurisdiction, as_role):
    with session_factory() as session, pytest.raises(NotVisible):
        organisation_detail(session, as_role("city"), 999_999)
    with session_factory() as session, pytest.raises(NotVisible):
        person_detail(session, as_role("city"), 999_999)


def test_id_numbers_are_masked_except_for_hrss_employer_and_the_person(
    session_factory, jurisdiction, as_role
):
    doctor = jurisdiction.persons["doctor"]
    assert mask_id_number(ID_YEXIAN) == "410422********0011"
    with session_factory() as session:
        for role in ("city", "yexian", "hospital", "doctor"):
            shown = person_detail(session, as_role(role), doctor)
            assert (shown.id_number, shown.id_number_masked) == (ID_YEXIAN, False), role
            assert shown.birth_date == date(1988, 1, 1)
        hidden = person_detail(session, as_role("authority"), doctor)
        assert (hidden.id_number, hidden.id_number_masked) == ("410422********0011", True)
        assert hidden.birth_date is None
        listed = {row.name: row.id_number for row in search_persons(session, as_role("authority")).items}
        assert listed == {"赵医生": "410422********0011", "钱护士": "410422********003X"}


def test_rows_carry_the_display_names(session_factory, jurisdiction, as_role):
    with session_factory() as session:
        hospital = organisation_detail(session, as_role("yexian"), jurisdiction.orgs["hospital"])
        doctor = person_detail(session, as_role("yexian"), jurisdiction.persons["doctor"])
    assert (hospital.region_name, hospital.authority_name, hospital.status) == (
        "叶县",
        "叶县卫生健康委",
        "active",
    )
    assert hospital.persons_by_status == {"active": 1, "pending": 1}
    assert (doctor.employer_name, doctor.region_name) == ("叶县人民医院", "叶县")
    assert doctor.certificate_number == "豫继教4104220001"


def test_organisation_filters_narrow_within_the_jurisdiction(session_factory, jurisdiction, as_role):
    city = as_role("city")
    with session_factory() as session:
        employers = search_organisations(session, city, kind="employer")
        in_yexian = search_organisations(session, city, region="410422")
        by_name = search_organisations(session, city, q="人民医院")
        by_code = search_organisations(session, city, q="91410422")
        pending = search_organisations(session, city, status="pending")
        outside = search_organisations(session, as_role("yexian"), region="410423")
    assert [row.name for row in employers.items] == ["叶县人民医院", "鲁山县第一中学"]
    assert _names(jurisdiction.orgs, in_yexian.items) == {"yexian", "authority", "hospital"}
    assert _names(jurisdiction.orgs, by_name.items) == {"hospital"}
    assert _names(jurisdiction.orgs, by_code.items) == {"hospital"}
    assert pending.items == () and pending.status_counts == {"active": 7}
    assert outside.items == ()


def test_person_filters_and_search_by_name_or_id_number(session_factory, jurisdiction, as_role):
    city, authority = as_role("city"), as_role("authority")
    with session_factory() as session:
        assert _names(jurisdiction.persons, search_persons(session, city, q="老师").items) == {"teacher"}
        assert _names(jurisdiction.persons, search_persons(session, city, q="410422").items) == {
            "doctor",
            "nurse",
        }
        assert _names(jurisdiction.persons, search_persons(session, city, q="41042219850303003x").items) == {
            "nurse"
        }
        by_employer = search_persons(session, city, employer_id=jurisdiction.orgs["school"])
        assert _names(jurisdiction.persons, by_employer.items) == {"teacher"}
        juniors = search_persons(session, city, title_level="junior")
        assert _names(jurisdiction.persons, juniors.items) == {"nurse"}
        active = search_persons(session, city, region="410422", status="active")
        assert _names(jurisdiction.persons, active.items) == {"doctor"}
        assert active.status_counts == {"active": 1, "pending": 1}
        # a masked reader may not probe the hidden digits with a prefix; the whole number finds the person
        assert search_persons(session, authority, q="4104221988").items == ()
        assert _names(jurisdiction.persons, search_persons(session, authority, q=ID_YEXIAN).items) == {
            "doctor"
        }
        assert search_persons(session, authority, q=ID_LUSHAN).items == ()


def test_pages_follow_the_keyset_without_gaps_or_repeats(session_factory, jurisdiction, as_role):
    city = as_role("city")
    seen, after = [], None
    with session_factory() as session:
        everything = [row.id for row in search_organisations(session, city).items]
        while True:
            page = search_organisations(session, city, after=after, limit=2)
            assert len(page.items) <= 2
            seen += [row.id for row in page.items]
            if page.next_cursor is None:
                break
            after = page.next_cursor
        with pytest.raises(BadCursor):
            search_organisations(session, city, after="not-a-cursor")
    assert seen == everything and len(seen) == 7


def test_region_choices_are_the_regions_in_scope(session_factory, jurisdiction, as_role):
    with session_factory() as session:
        city = {region.code for region in visible_regions(session, as_role("city"))}
        county = {region.code for region in visible_regions(session, as_role("yexian"))}
        employer = {region.code for region in visible_regions(session, as_role("hospital"))}
    assert "410400" in city and "410422" in city and "410000" not in city
    assert county == {"410422"}
    assert employer == {"410422"}


def test_home_tells_the_city_and_whether_the_actor_is_its_hrss(session_factory, jurisdiction, as_role):
    with session_factory() as session:
        city, county, person = (home_of(session, as_role(role)) for role in ("city", "yexian", "doctor"))
    assert (city.city_code, city.is_city_hrss) == ("410400", True)
    assert (county.city_code, county.city_name, county.is_city_hrss) == ("410400", "平顶山市", False)
    assert (person.region_code, person.city_code, person.is_city_hrss) == ("410422", "410400", False)


def test_counts_stop_above_the_cap_and_a_long_list_is_marked_common_for_sqlite(
    session_factory, jurisdiction, as_role, monkeypatch, db_engine
):
    city = as_role("city")
    with session_factory() as session:
        exact = search_persons(session, city)
    assert exact.status_counts == {"active": 2, "pending": 1}
    monkeypatch.setattr(keyset, "COUNT_CAP", 0)  # "more than 0" stands for "more than 10,000"
    statements = []
    listen = lambda _conn, _cursor, statement, *_: statements.append(statement)  # noqa: E731
    event.listen(db_engine, "before_cursor_execute", listen)
    try:
        with session_factory() as session:
            capped = search_persons(session, city)
    finally:
        event.remove(db_engine, "before_cursor_execute", listen)
    assert capped.status_counts == {"active": 1, "pending": 1} and capped.count_cap == 0
    assert capped.items == exact.items  # the same page, read in name order instead of sorted
    hinted = [s for s in statements if "likely(" in s]
    assert len(hinted) == (1 if db_engine.dialect.name == "sqlite" else 0)


def test_an_id_number_prefix_is_an_index_range_and_digits_never_search_names(
    session_factory, jurisdiction, as_role
):
    city = as_role("city")
    with session_factory() as session:
        cases = (
            "4104221",  # the doctor's and the nurse's numbers start so
            "41042219850303003",  # 17 digits: the nurse's, whose number ends in X
            "41042319900202002",  # 17 digits: the Lushan teacher's
            "4104231",  # a range up to the next prefix, 4104232
            "4104229",  # carries into 4104230: nobody's number starts so
            "99",  # all nines: nothing sorts after them, so no upper bound
        )
        found = {q: _names(jurisdiction.persons, search_persons(session, city, q=q).items) for q in cases}
    assert found == {
        "4104221": {"doctor", "nurse"},
        "41042219850303003": {"nurse"},
        "41042319900202002": {"teacher"},
        "4104231": {"teacher"},
        "4104229": set(),
        "99": set(),
    }
