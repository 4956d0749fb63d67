"""The one keyset pagination: cursors round-trip, the seek walks every order without gaps or repeats."""

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import Column
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import insert
from sqlalchemy import select

from domain.base import UtcDateTime
from infra.keyset import BadCursor
from infra.keyset import Page
from infra.keyset import cut
from infra.keyset import decode_cursor
from infra.keyset import encode_cursor
from infra.keyset import order_by
from infra.keyset import ordered
from infra.keyset import seek

PROBE = Table(
    "keyset_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)
START = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
NAMES = ("张三", "a_b", "a%b", "李四", "a_b", "z")  # ties on the name, and the cursor's own separators


@pytest.fixture
def probe(db_engine):
    PROBE.create(db_engine)
    with db_engine.begin() as connection:
        rows = [
            {"id": n + 1, "name": name, "at": START + timedelta(hours=n % 3)} for n, name in enumerate(NAMES)
        ]
        connection.execute(insert(PROBE), rows)
    yield db_engine
    PROBE.drop(db_engine)


def test_a_cursor_gives_back_the_values_it_was_made_of():
    order = ((PROBE.c.name, False), (PROBE.c.at, True), (PROBE.c.id, False))
    values = ("a_b%5F 张_", START + timedelta(microseconds=7), 42)
    cursor = encode_cursor(values, "due")
    assert decode_cursor(cursor, order, "due") == values
    assert decode_cursor(None, order, "due") is None


@pytest.mark.parametrize("cursor", ["created_1_2_3", "due_1", "due_x_1", "due_a_1_2_3", "not-a-cursor"])
def test_a_cursor_of_another_list_or_forged_is_refused(cursor):
    with pytest.raises(BadCursor):
        decode_cursor(cursor, ((PROBE.c.at, False), (PROBE.c.id, False)), "due")


@pytest.mark.parametrize(
    "order",
    [
        ((PROBE.c.name, False), (PROBE.c.id, False)),
        ((PROBE.c.at, True), (PROBE.c.id, True)),
        ((PROBE.c.at, False), (PROBE.c.name, True), (PROBE.c.id, False)),
    ],
)
@pytest.mark.parametrize("bounded", [False, True])
def test_pages_after_the_cursor_walk_the_order_without_gaps_or_repeats(probe, order, bounded):
    with probe.connect() as connection:
        everything = [row.id for row in connection.execute(select(PROBE.c.id).order_by(*order_by(order)))]
        seen, cursor = [], None
        while True:
            statement = select(PROBE.c.id)
            values = decode_cursor(cursor, order)
            if values is not None:
                statement = statement.where(seek(order, values, bounded=bounded))
            rows = connection.execute(ordered(statement, order).order_by(*order_by(order)).limit(3)).all()
            items, cursor = cut(rows, 2, order, lambda row: row[0])
            seen += items
            if cursor is None:
                break
    assert seen == everything and len(seen) == len(NAMES)


def test_before_the_cursor_reads_the_rows_ahead_of_it_backwards(probe):
    order = ((PROBE.c.name, False), (PROBE.c.id, False))
    with probe.connect() as connection:
        everything = connection.execute(select(PROBE.c.name, PROBE.c.id).order_by(*order_by(order))).all()
        last = everything[-1]
        statement = select(PROBE.c.id).where(seek(order, tuple(last), before=True))
        backwards = connection.scalars(statement.order_by(*order_by(order, reverse=True))).all()
    assert backwards == [row.id for row in reversed(everything[:-1])]


def test_a_page_without_counts_says_it_counted_nothing():
    page = Page((1, 2), None)
    assert page.status_counts == {} and page.count_cap is None
