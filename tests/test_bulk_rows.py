"""Bulk-written rows read back exactly as rows stored with insert(): defaults, datetimes, booleans, JSON."""

import copy
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domain.accounts.users import User
from domain.certificates.records import CertificateNumber
from domain.certificates.records import NumberRange
from domain.organisations.records import Organisation
from domain.organisations.records import Region
from domain.organisations.shipped_regions import PINGDINGSHAN_REGIONS
from domain.organisations.shipped_regions import seed_regions
from domain.persons.records import Person
from engine.inbox.saved_filters import SavedFilter
from infra.bulk_rows import RowsNotWritable
from infra.bulk_rows import write_rows
from seed.population import PopulationPlan
from seed.population import add_hrss_offices
from seed.population import credit_code
from seed.population import populate

BEIJING = timezone(timedelta(hours=8))
AT = datetime(2025, 11, 3, 9, 30, 15, 123456, tzinfo=BEIJING)  # not UTC: stored and read back as UTC

# Per table, in parents-first order; some rows leave out columns that have Python-side defaults,
# and the key sets differ within a table, in another order too.
ROWS = {
    Region: [
        {"code": "410000", "name": "河南省", "level": "province", "parent_code": None},
        {"code": "410422", "name": "叶县", "level": "county", "parent_code": "410000"},
    ],
    Organisation: [
        {"id": 1, "kind": "authority", "name": "叶县教育局", "region_code": "410422", "created_at": AT},
        {
            "id": 2,
            "kind": "employer",
            "name": "叶县第一中学",
            "region_code": "410422",
            "uscc": credit_code("410422", 2),
            "authority_id": 1,
            "level": "county",
            "status": "pending",
            "expected_persons": 12,
            "created_at": AT,
            "activated_at": None,
        },
        {
            "authority_id": 1,
            "uscc": credit_code("410422", 3),
            "activated_at": AT + timedelta(days=1),
            "created_at": AT,
            "expected_persons": 30,
            "status": "active",
            "level": "county",
            "region_code": "410422",
            "name": "叶县人民医院",
            "kind": "employer",
            "id": 3,
        },
    ],
    User: [
        {"id": 1, "username": "hr", "password_hash": "x", "display_name": "人事", "created_at": AT},
        {
            "id": 2,
            "username": "410422198801010018",
            "password_hash": "x",
            "display_name": "张三",
            "organisation_id": 2,
            "roles": "hr,admin",
            "is_admin": True,
            "active": False,
            "created_at": AT,
            "password_changed_at": AT + timedelta(hours=3),
        },
    ],
    Person: [
        {
            "id": 1,
            "id_number": "410422198801010018",
            "name": "张三",
            "gender": "M",
            "birth_date": date(1988, 1, 1),
            "employer_id": 2,
            "region_code": "410422",
            "title_level": "junior",
            "user_id": 2,
            "created_at": AT,
        },
    ],
    SavedFilter: [
        {"id": 1, "user_id": 1, "name": "mine", "view": "mine", "created_at": AT},
        {
            "id": 2,
            "user_id": 1,
            "name": "逾期",
            "view": "queue",
            "query": {"due": "overdue", "regions": ["410422"], "subject": "学时", "urgent": True, "to": None},
            "created_at": AT,
        },
    ],
}


def by_write_rows(session) -> None:
    for model, rows in copy.deepcopy(ROWS).items():
        write_rows(session.connection(), model.__table__, iter(rows))  # any iterable, streamed


def by_insert(session) -> None:
    for model, rows in copy.deepcopy(ROWS).items():
        session.execute(insert(model), rows)


def stored(session_factory, write) -> dict:
    """Write ROWS with `write`, read every row back through the ORM, then roll the writes back."""
    with session_factory() as session:
        write(session)
        found = {
            model.__name__: [
                {column.key: getattr(record, column.key) for column in model.__table__.columns}
                for record in session.scalars(select(model).order_by(*model.__table__.primary_key))
            ]
            for model in ROWS
        }
        session.rollback()
    return found


def test_bulk_written_rows_read_back_as_inserted_rows(session_factory):
    assert stored(session_factory, by_write_rows) == stored(session_factory, by_insert)


def test_left_out_columns_take_their_python_defaults(session_factory):
    found = stored(session_factory, by_write_rows)
    authority, user, person, saved = (
        found[name][0] for name in ("Organisation", "User", "Person", "SavedFilter")
    )
    assert (authority["level"], authority["status"], authority["expected_persons"]) == ("county", "active", 0)
    assert (user["roles"], user["is_admin"], user["active"]) == ("", False, True)
    assert (person["status"], person["title_series"]) == ("pending", "")
    assert saved["query"] == {}
    assert found["SavedFilter"][1]["query"] == ROWS[SavedFilter][1]["query"]


def test_datetimes_read_back_aware_in_utc(session_factory):
    found = stored(session_factory, by_write_rows)
    created = found["User"][0]["created_at"]
    assert created == AT and created.utcoffset() == timedelta(0)
    assert found["User"][0]["password_changed_at"] is None
    assert found["Person"][0]["birth_date"] == date(1988, 1, 1)


def test_naive_datetimes_are_refused(session_factory):
    naive = {**ROWS[User][0], "created_at": datetime(2025, 11, 3, 9, 30)}
    with session_factory() as session, pytest.raises(ValueError, match="naive datetimes"):
        write_rows(session.connection(), User.__table__, [naive])


def test_foreign_keys_stay_checked(session_factory):
    orphan = {**ROWS[User][0], "organisation_id": 99}
    with session_factory() as session, pytest.raises(IntegrityError):
        write_rows(session.connection(), User.__table__, [orphan])


def test_a_key_that_is_no_column_is_refused(session_factory):
    with session_factory() as session, pytest.raises(RowsNotWritable, match="no column 'colour'"):
        write_rows(session.connection(), Region.__table__, [{**ROWS[Region][0], "colour": "red"}])


def test_populate_writes_consistent_people_and_moves_the_id_sequences(session_factory):
    now = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)
    plan = PopulationPlan(authorities_per_region=2, employers_per_region=4, institutions_per_region=1)
    counties = [code for code, _name, level, _parent in PINGDINGSHAN_REGIONS if level == "county"][:2]
    with session_factory() as session, session.begin():
        seed_regions(session)
        hrss = add_hrss_offices(session, PINGDINGSHAN_REGIONS, now, "人社局")
        report = populate(session, counties, hrss, plan, now, "not-a-hash")
    with session_factory() as session, session.begin():
        people = session.execute(select(Person, User).join(User, Person.user_id == User.id)).all()
        assert len(people) == report.persons > 0
        assert all(u.username == p.id_number and u.display_name == p.name and u.active for p, u in people)
        assert all(p.created_at == now and p.created_at.tzinfo is not None for p, _u in people)
        numbers = set(session.scalars(select(CertificateNumber.number)))
        assert numbers == {p.certificate_number for p, _u in people}
        counted = select(CertificateNumber.range_id, func.count()).group_by(CertificateNumber.range_id)
        used = {range_id: count for range_id, count in session.execute(counted)}
        assert all(r.next_value == r.first + used.get(r.id, 0) for r in session.scalars(select(NumberRange)))
        last = session.scalar(select(func.max(Organisation.id)))
        added = Organisation(kind="employer", name="新单位", region_code=counties[0], created_at=now)
        session.add(added)
        session.flush()
        assert added.id == last + 1
