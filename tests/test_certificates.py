"""R5: the HRSS allocates ranges (号段); employers number their persons from them, no gaps, no duplicates."""

import threading

import pytest
from sqlalchemy import func
from sqlalchemy import select

import schema  # noqa: F401  (registers every table on Base.metadata)
from domain.certificates.numbers import MAX_RANGE_SIZE
from domain.certificates.numbers import allocate_range
from domain.certificates.numbers import draw_number
from domain.certificates.numbers import keep_existing_number
from domain.certificates.numbers import range_usage
from domain.certificates.numbers import void_number
from domain.certificates.records import CertificateError
from domain.certificates.records import CertificateNumber
from domain.certificates.records import NumberRange
from domain.certificates.records import RangeError
from domain.certificates.records import RangeExhausted
from domain.certificates.records import RangeUsage
from domain.certificates.records import format_number
from domain.organisations.records import Organisation
from domain.persons.records import Person
from tests.factories import add_persons

YEXIAN_PREFIX = "4104222025"  # 叶县 HRSS (410422), allocating in 2025 (the fake clock's year)


def org_id(session, kind: str, region_code: str, name: str | None = None) -> int:
    """Return the id of the world's organisation of this kind and region (and name)."""
    query = select(Organisation.id).where(Organisation.kind == kind, Organisation.region_code == region_code)
    if name is not None:
        query = query.where(Organisation.name == name)
    return session.scalar(query)


@pytest.fixture
def orgs(session_factory, world, clock):
    """The ids of 叶县 HRSS, 平顶山 city HRSS, 叶县人民医院 and a second employer, 叶县第一中学."""
    with session_factory() as s, s.begin():
        school = Organisation(kind="employer", name="叶县第一中学", region_code="410422", created_at=clock())
        s.add(school)
        s.flush()
        return {
            "hrss": org_id(s, "hrss", "410422"),
            "city_hrss": org_id(s, "hrss", "410400"),
            "hospital": org_id(s, "employer", "410422", "叶县人民医院"),
            "school": school.id,
        }


def test_numbers_come_out_in_order_without_gaps(session_factory, orgs, clock):
    with session_factory() as s:
        persons = add_persons(s, orgs["hospital"], 5, clock)
        allocate_range(s, orgs["hrss"], orgs["hospital"], 5, clock())
        drawn = [draw_number(s, orgs["hospital"], p, clock()) for p in persons]
        s.commit()

    assert drawn == [f"{YEXIAN_PREFIX}{n:06d}" for n in range(1, 6)]
    with session_factory() as s:
        assert [s.get(Person, p).certificate_number for p in persons] == drawn
        assert {r.status for r in s.scalars(select(CertificateNumber))} == {"assigned"}
        assert s.scalar(select(NumberRange)).exhausted_at == clock()
        assert range_usage(s, orgs["hospital"]) == RangeUsage(total=5, used=5, left=0)


def test_an_employer_draws_from_its_oldest_range_first(session_factory, orgs, clock):
    with session_factory() as s:
        persons = add_persons(s, orgs["hospital"], 4, clock)
        older = allocate_range(s, orgs["hrss"], orgs["hospital"], 2, clock())
        allocate_range(s, orgs["hrss"], orgs["school"], 3, clock())
        clock.advance(days=1)
        younger = allocate_range(s, orgs["hrss"], orgs["hospital"], 2, clock())
        drawn = [draw_number(s, orgs["hospital"], p, clock()) for p in persons]

        assert drawn == [format_number(YEXIAN_PREFIX, n) for n in (1, 2, 6, 7)]
        assert older.exhausted_at is not None and younger.exhausted_at is not None


def test_ranges_of_two_employers_never_overlap(session_factory, orgs, clock):
    with session_factory() as s:
        allocations = [
            allocate_range(s, orgs["hrss"], orgs["hospital"], 10, clock()),
            allocate_range(s, orgs["hrss"], orgs["school"], 7, clock()),
            allocate_range(s, orgs["hrss"], orgs["hospital"], 3, clock()),
            allocate_range(s, orgs["city_hrss"], orgs["school"], 4, clock()),
        ]
        s.commit()

    numbers = [format_number(r.prefix, n) for r in allocations for n in range(r.first, r.last + 1)]
    assert len(numbers) == len(set(numbers)) == 24
    assert [(r.prefix, r.first, r.last) for r in allocations] == [
        (YEXIAN_PREFIX, 1, 10),
        (YEXIAN_PREFIX, 11, 17),
        (YEXIAN_PREFIX, 18, 20),
        ("4104002025", 1, 4),
    ]


@pytest.mark.parametrize("size", [0, -3, 2.5, "10", True, MAX_RANGE_SIZE + 1])
def test_a_range_of_a_bad_size_is_refused(session_factory, orgs, clock, size):
    with session_factory() as s, pytest.raises(RangeError, match="range_size"):
        allocate_range(s, orgs["hrss"], orgs["hospital"], size, clock())


def test_only_an_hrss_allocates_and_only_to_an_employer(session_factory, orgs, clock):
    with session_factory() as s:
        with pytest.raises(RangeError, match="range_allocator_not_hrss"):
            allocate_range(s, orgs["school"], orgs["hospital"], 5, clock())
        with pytest.raises(RangeError, match="range_holder_not_employer"):
            allocate_range(s, orgs["hrss"], orgs["city_hrss"], 5, clock())
        assert s.scalar(select(func.count()).select_from(NumberRange)) == 0


def test_an_exhausted_employer_is_told_to_ask_the_hrss_and_nothing_is_written(session_factory, orgs, clock):
    with session_factory() as s:
        first, second = add_persons(s, orgs["hospital"], 2, clock)
        allocate_range(s, orgs["hrss"], orgs["hospital"], 1, clock())
        draw_number(s, orgs["hospital"], first, clock())
        s.commit()

        with pytest.raises(RangeExhausted) as raised:
            draw_number(s, orgs["hospital"], second, clock())

        assert not s.new and not s.dirty and not s.deleted
        message = str(raised.value)
        assert f"employer {orgs['hospital']}" in message and "叶县人民医院" in message
        assert "号段" in message and "used up" in message and "1 of 1" in message
        assert "HRSS" in message and "allocate" in message
        assert raised.value.usage == RangeUsage(total=1, used=1, left=0)
        s.commit()
    with session_factory() as s:
        assert s.get(Person, second).certificate_number is None
        assert s.scalar(select(func.count()).select_from(CertificateNumber)) == 1
        assert s.scalar(select(NumberRange.next_value)) == 2


def test_an_employer_without_a_range_is_told_to_ask_the_hrss(session_factory, orgs, clock):
    with session_factory() as s:
        (person,) = add_persons(s, orgs["school"], 1, clock)
        with pytest.raises(RangeExhausted, match="has not been allocated a certificate number range"):
            draw_number(s, orgs["school"], person, clock())


def test_a_person_is_numbered_once_and_only_by_their_employer(session_factory, orgs, clock):
    with session_factory() as s:
        (nurse,) = add_persons(s, orgs["hospital"], 1, clock)
        allocate_range(s, orgs["hrss"], orgs["hospital"], 5, clock())
        allocate_range(s, orgs["hrss"], orgs["school"], 5, clock())
        with pytest.raises(CertificateError, match="person_not_with_employer"):
            draw_number(s, orgs["school"], nurse, clock())
        draw_number(s, orgs["hospital"], nurse, clock())
        with pytest.raises(CertificateError, match="person_has_number"):
            draw_number(s, orgs["hospital"], nurse, clock())
        assert range_usage(s, orgs["hospital"]).used == 1
        assert range_usage(s, orgs["school"]).used == 0


def test_a_kept_2014_number_is_not_renumbered_and_collides_with_nothing(session_factory, orgs, clock):
    with session_factory() as s:
        veteran, *newcomers = add_persons(s, orgs["hospital"], 3, clock)
        kept = keep_existing_number(s, veteran, " 4104222014000001 ", 2014, clock())
        allocate_range(s, orgs["hrss"], orgs["hospital"], 5, clock())
        with pytest.raises(CertificateError, match="person_has_number.*4104222014000001"):
            draw_number(s, orgs["hospital"], veteran, clock())
        drawn = [draw_number(s, orgs["hospital"], p, clock()) for p in newcomers]
        s.commit()

    assert kept == "4104222014000001"
    assert drawn == [format_number(YEXIAN_PREFIX, 1), format_number(YEXIAN_PREFIX, 2)]
    with session_factory() as s:
        record = s.get(CertificateNumber, kept)
        assert (record.status, record.range_id, record.year, record.person_id) == (
            "kept",
            None,
            2014,
            veteran,
        )
        person = s.get(Person, veteran)
        assert (person.certificate_number, person.certificate_year) == (kept, 2014)


def test_keeping_refuses_other_years_and_numbers_in_use(session_factory, orgs, clock):
    with session_factory() as s:
        holder, voided_holder, *others = add_persons(s, orgs["hospital"], 5, clock)
        allocate_range(s, orgs["hrss"], orgs["hospital"], 5, clock())
        drawn = draw_number(s, orgs["hospital"], holder, clock())
        voided = draw_number(s, orgs["hospital"], voided_holder, clock())
        void_number(s, voided, "证书遗失补办", clock())

        with pytest.raises(CertificateError, match="kept_number_year.*2015"):
            keep_existing_number(s, others[0], "豫继教2015-000001", 2015, clock())
        with pytest.raises(CertificateError, match="number_recorded.*assigned"):
            keep_existing_number(s, others[0], drawn, 2014, clock())
        with pytest.raises(CertificateError, match="number_recorded.*voided"):
            keep_existing_number(s, others[0], voided, 2014, clock())
        with pytest.raises(CertificateError, match="number_in_allocated_range"):
            keep_existing_number(s, others[0], format_number(YEXIAN_PREFIX, 4), 2013, clock())
        with pytest.raises(CertificateError, match="kept_number_required"):
            keep_existing_number(s, others[0], "  ", 2013, clock())
        keep_existing_number(s, others[0], "豫继教2013-000777", 2013, clock())
        with pytest.raises(CertificateError, match="number_recorded.*kept"):
            keep_existing_number(s, others[1], "豫继教2013-000777", 2013, clock())


def test_a_range_is_not_allocated_over_a_kept_number(session_factory, orgs, clock):
    with session_factory() as s:
        (veteran,) = add_persons(s, orgs["hospital"], 1, clock)
        keep_existing_number(s, veteran, format_number(YEXIAN_PREFIX, 3), 2014, clock())
        with pytest.raises(RangeError, match="range_covers_recorded_number"):
            allocate_range(s, orgs["hrss"], orgs["hospital"], 5, clock())


def test_voided_numbers_stay_with_their_reason_and_are_never_handed_out_again(session_factory, orgs, clock):
    with session_factory() as s:
        nurse, doctor = add_persons(s, orgs["hospital"], 2, clock)
        allocate_range(s, orgs["hrss"], orgs["hospital"], 5, clock())
        lost = draw_number(s, orgs["hospital"], nurse, clock())
        draw_number(s, orgs["hospital"], doctor, clock())
        with pytest.raises(CertificateError, match="void_reason_required"):
            void_number(s, lost, "   ", clock())
        clock.advance(hours=2)
        void_number(s, lost, "证书遗失，重新编号", clock())
        with pytest.raises(CertificateError, match="number_already_void.*证书遗失"):
            void_number(s, lost, "again", clock())
        renumbered = draw_number(s, orgs["hospital"], nurse, clock())
        s.commit()

    assert renumbered == format_number(YEXIAN_PREFIX, 3)
    with session_factory() as s:
        record = s.get(CertificateNumber, lost)
        assert (record.status, record.void_reason, record.voided_at) == (
            "voided",
            "证书遗失，重新编号",
            clock(),
        )
        assert record.person_id == nurse
        assert s.get(Person, nurse).certificate_number == renumbered
        assert range_usage(s, orgs["hospital"]) == RangeUsage(total=5, used=3, left=2)


def test_voiding_an_unknown_number_is_refused(session_factory, orgs, clock):
    with session_factory() as s, pytest.raises(CertificateError, match="number_never_assigned"):
        void_number(s, format_number(YEXIAN_PREFIX, 1), "typo", clock())


def in_parallel(works: list) -> list[Exception]:
    """Start every work in its own thread at the same moment; return the exceptions they raised."""
    barrier = threading.Barrier(len(works))
    errors = []

    def run(work):
        barrier.wait()
        try:
            work()
        except Exception as error:  # reported to the test; a thread's exception would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_parallel_approvals_draw_200_consecutive_numbers_without_gaps(session_factory, orgs, clock):
    threads_count, draws_each = 8, 25
    with session_factory() as s:
        persons = add_persons(s, orgs["hospital"], threads_count * draws_each, clock)
        allocate_range(s, orgs["hrss"], orgs["hospital"], 120, clock())
        clock.advance(minutes=1)
        allocate_range(s, orgs["hrss"], orgs["hospital"], 80, clock())  # draws cross into it under load
        s.commit()

    def approve(batch):
        for person in batch:
            with session_factory() as s:
                s.connection(execution_options={"ceflow_write": True})
                draw_number(s, orgs["hospital"], person, clock())
                s.commit()

    batches = [persons[i::threads_count] for i in range(threads_count)]
    errors = in_parallel([lambda batch=batch: approve(batch) for batch in batches])

    assert not errors, errors
    with session_factory() as s:
        numbers = sorted(s.scalars(select(CertificateNumber.number)))
        held = sorted(
            s.scalars(select(Person.certificate_number).where(Person.certificate_number.is_not(None)))
        )
        assert numbers == held == [format_number(YEXIAN_PREFIX, n) for n in range(1, 201)]
        assert range_usage(s, orgs["hospital"]) == RangeUsage(total=200, used=200, left=0)
        (extra,) = add_persons(s, orgs["hospital"], 1, clock, start=1000)
        with pytest.raises(RangeExhausted):
            draw_number(s, orgs["hospital"], extra, clock())


def test_parallel_allocations_never_overlap(session_factory, orgs, clock):
    def allocate(employer_id):
        for _ in range(5):
            with session_factory() as s:
                s.connection(execution_options={"ceflow_write": True})
                allocate_range(s, orgs["hrss"], employer_id, 7, clock())
                s.commit()

    employers = [orgs["hospital"], orgs["school"]] * 3
    errors = in_parallel([lambda e=e: allocate(e) for e in employers])

    assert not errors, errors
    with session_factory() as s:
        bounds = s.execute(select(NumberRange.first, NumberRange.last).order_by(NumberRange.first)).all()
    assert [tuple(b) for b in bounds] == [(n, n + 6) for n in range(1, 211, 7)]
