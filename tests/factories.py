"""Test records built one way for every test file: persons registered with an employer."""

from datetime import date

from domain.persons.records import Person


def add_persons(
    session, employer_id: int, count: int, clock, start: int = 0, *, names=None, region_code: str = "410422"
) -> list[int]:
    """Register `count` active persons with the employer (named `names`, or 测试0…); return their ids."""
    names = list(names) if names is not None else [f"测试{start + i}" for i in range(count)]
    persons = [
        Person(
            id_number=f"{region_code}{employer_id:04d}{start + i:08d}",
            name=names[i],
            gender="F",
            birth_date=date(1985, 6, 1),
            employer_id=employer_id,
            region_code=region_code,
            title_level="intermediate",
            status="active",
            created_at=clock(),
        )
        for i in range(count)
    ]
    session.add_all(persons)
    session.flush()
    return [p.id for p in persons]
