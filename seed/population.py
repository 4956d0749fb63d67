"""Bulk population of organisations and persons: the demo city and the province-sized benchmark.

Rows are bulk-written in chunks (COPY on PostgreSQL) with ids assigned up front (infra.bulk_rows), so
millions of rows load in minutes; every generated ID number and credit code is valid, and certificate
numbers come from ranges allocated to each employer as R5 requires.
"""

import random
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta

from sqlalchemy.orm import Session
from stdnum.cn import ric
from stdnum.cn import uscc

from domain.accounts.users import User
from domain.certificates.records import CertificateNumber
from domain.certificates.records import NumberRange
from domain.certificates.records import format_number
from domain.certificates.records import range_prefix
from domain.organisations.records import Organisation
from domain.persons.records import Person
from infra.bulk_rows import bump_sequences
from seed.rows import RowIds
from seed.rows import RowWriter

INDUSTRIES = [
    "教育",
    "卫生健康",
    "农业农村",
    "工业和信息化",
    "住房城乡建设",
    "交通运输",
    "水利",
    "自然资源",
    "文化广电旅游",
    "生态环境",
    "林业",
    "科技",
]
EMPLOYER_KINDS = [
    "中学",
    "小学",
    "人民医院",
    "中医院",
    "农业技术推广站",
    "建筑设计院",
    "水利勘测队",
    "广播电视台",
    "疾病预防控制中心",
    "职业技术学校",
]
TITLE_WEIGHTS = [("junior", 40), ("intermediate", 40), ("senior_associate", 15), ("senior_full", 5)]
SERIES = {"教育": "中小学教师", "卫生健康": "卫生技术", "农业农村": "农业技术", "住房城乡建设": "工程技术"}
SURNAMES = (
    "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志鹏飞宇浩然欣怡子涵俊辉"


@dataclass
class PopulationPlan:
    """How much to generate per region."""

    authorities_per_region: int = 2
    employers_per_region: int = 20
    institutions_per_region: int = 0
    persons_per_employer: tuple[int, int] = (5, 30)
    late_share: float = 0.15
    seed: int = 2015


@dataclass
class PopulationReport:
    organisations: int = 0
    persons: int = 0
    users: int = 0
    late_employers: int = 0
    by_region: dict = field(default_factory=dict)


def credit_code(region_code: str, organisation_id: int) -> str:
    """Return a valid unified social credit code, unique per organisation id."""
    body = f"91{region_code}{organisation_id:09d}"
    return body + uscc.calc_check_digit(body)


def id_number(region_code: str, serial: int) -> str:
    """Return a valid, unique ID number for the n-th person generated in a region."""
    birth = date(1960, 1, 1) + timedelta(days=(serial // 500) % 14600)
    body = f"{region_code}{birth:%Y%m%d}{serial % 500 * 2 + (serial // 7300000) % 2:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


def person_name(rng: random.Random) -> str:
    """Return a made-up Chinese name: a common surname and one or two given characters."""
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def add_hrss_offices(session: Session, regions, now: datetime, suffix: str) -> dict[str, int]:
    """Add an active HRSS to each (code, name, level, parent) region; return their ids by region code."""
    offices = [
        Organisation(
            kind="hrss",
            name=f"{name}{suffix}",
            level=level,
            region_code=code,
            status="active",
            created_at=now,
            activated_at=now,
        )
        for code, name, level, _parent in regions
    ]
    session.add_all(offices)
    session.flush()
    return {office.region_code: office.id for office in offices}


def populate(
    session: Session,
    region_codes,
    hrss_by_region: dict[str, int],
    plan: PopulationPlan,
    now: datetime,
    password_hash: str,
) -> PopulationReport:
    """Generate authorities, employers, institutions and persons in each region; return the counts."""
    rng, ids, report = random.Random(plan.seed), RowIds(session), PopulationReport()
    writer = RowWriter(session)
    for region in region_codes:
        authorities = _authorities(writer, ids, rng, region, plan, now)
        _institutions(writer, ids, region, plan, now)
        for index in range(plan.employers_per_region):
            _employer_with_persons(
                writer, ids, rng, region, authorities, hrss_by_region, plan, now, password_hash, report, index
            )
        report.organisations += len(authorities) + plan.institutions_per_region + plan.employers_per_region
        writer.flush_if_full()
    writer.flush()
    bump_sequences(session.connection())
    report.users = report.persons
    return report


def _authorities(writer, ids, rng, region, plan, now) -> list[tuple[int, str]]:
    chosen = rng.sample(INDUSTRIES, k=min(plan.authorities_per_region, len(INDUSTRIES)))
    made = []
    for industry in chosen:
        org_id = ids.take(Organisation)
        name = f"{region}{industry}主管部门"
        _add_organisation(
            writer, org_id, "authority", name, region, now, industry=industry, expected_persons=0
        )
        made.append((org_id, industry))
    return made


def _add_organisation(writer, org_id: int, kind: str, name: str, region: str, now, **values) -> None:
    """Buffer an active county organisation; `values` are its kind's own columns."""
    writer.add(
        Organisation,
        id=org_id,
        kind=kind,
        name=name,
        level="county",
        region_code=region,
        status="active",
        **values,
        created_at=now,
        activated_at=now,
    )


def _institutions(writer, ids, region, plan, now) -> None:
    for number in range(plan.institutions_per_region):
        name = f"{region}继续教育基地{number + 1}"
        _add_organisation(
            writer, ids.take(Organisation), "institution", name, region, now, expected_persons=0
        )


def _employer_with_persons(
    writer, ids, rng, region, authorities, hrss_by_region, plan, now, password_hash, report, index
) -> None:
    authority_id, industry = rng.choice(authorities)
    expected = rng.randint(*plan.persons_per_employer)
    late = rng.random() < plan.late_share
    registered = rng.randint(0, max(expected - 1, 0)) if late else expected
    employer_id = ids.take(Organisation)
    _add_organisation(
        writer,
        employer_id,
        "employer",
        f"{region}第{index + 1}{rng.choice(EMPLOYER_KINDS)}",
        region,
        now,
        uscc=credit_code(region, employer_id),
        authority_id=authority_id,
        industry=industry,
        expected_persons=expected,
    )
    range_id = _range(writer, ids, region, employer_id, hrss_by_region[region], expected + 10, now)
    prefix = range_prefix(hrss_region(region), now)
    for _ in range(registered):
        serial = writer.serial(region)
        person_id, user_id = ids.take(Person), ids.take(User)
        number = format_number(prefix, writer.take_sequence(prefix))
        level = rng.choices([t for t, _ in TITLE_WEIGHTS], [w for _, w in TITLE_WEIGHTS])[0]
        person_number = id_number(region, serial)
        name = person_name(rng)
        writer.add(
            User,
            id=user_id,
            username=person_number,
            password_hash=password_hash,
            display_name=name,
            roles="",
            is_admin=False,
            active=True,
            created_at=now,
        )
        writer.add(
            Person,
            id=person_id,
            id_number=person_number,
            name=name,
            gender="M" if int(person_number[16]) % 2 else "F",
            birth_date=ric.get_birth_date(person_number),
            employer_id=employer_id,
            region_code=region,
            title_level=level,
            title_series=SERIES.get(industry, "工程技术"),
            certificate_number=number,
            certificate_year=now.year,
            status="active",
            user_id=user_id,
            created_at=now,
            registered_at=now,
        )
        writer.add(
            CertificateNumber,
            number=number,
            person_id=person_id,
            employer_id=employer_id,
            range_id=range_id,
            status="assigned",
            year=now.year,
            assigned_at=now,
        )
    writer.finish_range(range_id, registered)
    report.persons += registered
    report.late_employers += int(late)


def hrss_region(region: str) -> str:
    """Return the region whose HRSS allocates numbers to employers of `region` (the region itself)."""
    return region


def _range(writer, ids, region, employer_id, hrss_id, size, now) -> int:
    prefix = range_prefix(hrss_region(region), now)
    first = writer.reserve(prefix, size)
    range_id = ids.take(NumberRange)
    writer.add(
        NumberRange,
        id=range_id,
        employer_id=employer_id,
        prefix=prefix,
        first=first,
        last=first + size - 1,
        next_value=first,
        allocated_by_id=hrss_id,
        allocated_at=now,
    )
    return range_id
