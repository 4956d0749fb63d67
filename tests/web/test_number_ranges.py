"""Number ranges (号段, R5) through the pages: an HRSS allocates to its employers, sees their use and
voids numbers with a reason (who and when recorded); an employer reads its own; another region's
HRSS neither sees nor allocates (R15)."""

import re
from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import func
from sqlalchemy import select

from domain.accounts.users import User
from domain.certificates.numbers import allocate_range
from domain.certificates.numbers import draw_number
from domain.certificates.records import CertificateNumber
from domain.certificates.records import NumberRange
from domain.organisations.records import Organisation
from domain.persons.records import Person
from tests.factories import add_persons
from tests.web.conftest import csrf_token

NOW = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def employers(app, session_factory) -> dict[str, int]:
    with session_factory() as session:
        named = dict(
            session.execute(
                select(Organisation.name, Organisation.id).where(
                    Organisation.name.in_(["叶县人民医院", "鲁山县第一中学"])
                )
            ).all()
        )
    return {"hospital": named["叶县人民医院"], "school": named["鲁山县第一中学"]}


def ranges_of(session_factory, employer_id: int) -> list[tuple[str, int, int]]:
    with session_factory() as session:
        rows = session.execute(
            select(NumberRange.prefix, NumberRange.first, NumberRange.last)
            .where(NumberRange.employer_id == employer_id)
            .order_by(NumberRange.id)
        )
        return [tuple(row) for row in rows]


def drawn_number(session_factory, employer_id: int) -> str:
    """Register a person with the employer and give them its next number, as an approval does."""
    with session_factory() as session:
        region = session.scalar(select(Organisation.region_code).where(Organisation.id == employer_id))
        (person,) = add_persons(session, employer_id, 1, lambda: NOW, start=900, region_code=region)
        number = draw_number(session, employer_id, person, NOW)
        session.commit()
    return number


def test_the_county_hrss_allocates_a_range_to_its_employer_and_sees_the_use(
    login_as, session_factory, employers
):
    county = login_as("yexian-reviewer")
    listing = text(county.get("/number-ranges"))
    assert "叶县人民医院" in listing and "鲁山县第一中学" not in listing
    before = ranges_of(session_factory, employers["hospital"])

    page = county.get(f"/number-ranges/{employers['hospital']}")
    assert page.status_code == 200 and 'id="allocate-form"' in text(page)
    response = county.post(
        f"/number-ranges/{employers['hospital']}/allocate",
        data={"csrf_token": csrf_token(text(page)), "size": "50"},
    )
    assert response.status_code == 302
    after = ranges_of(session_factory, employers["hospital"])
    assert len(after) == len(before) + 1
    prefix, first, last = after[-1]
    assert prefix.startswith("410422") and last - first + 1 == 50

    drawn_number(session_factory, employers["hospital"])
    shown = text(county.get(f"/number-ranges/{employers['hospital']}"))
    total = sum(last - first + 1 for _, first, last in after)
    assert re.search(rf'id="total-size">{total}<', shown)
    assert re.search(r'id="total-used">1<', shown) and re.search(rf'id="total-left">{total - 1}<', shown)
    row = re.search(
        rf'data-employer="{employers["hospital"]}">(.*?)</tr>', text(county.get("/number-ranges")), re.S
    )
    assert [int(n) for n in re.findall(r'class="num">(\d+)<', row.group(1))] == [total, 1, total - 1]


def test_another_regions_hrss_neither_sees_nor_allocates_nor_voids(login_as, session_factory, employers):
    number = drawn_number(session_factory, employers["school"])  # 鲁山县's employer, 叶县's HRSS signs in
    before = ranges_of(session_factory, employers["school"])
    county = login_as("yexian-reviewer")
    token = csrf_token(text(county.get("/number-ranges")))
    assert county.get(f"/number-ranges/{employers['school']}").status_code == 404
    allocate = county.post(
        f"/number-ranges/{employers['school']}/allocate", data={"csrf_token": token, "size": "10"}
    )
    void = county.post(
        f"/number-ranges/{employers['school']}/void",
        data={"csrf_token": token, "number": number, "reason": "试图作废"},
    )
    assert (allocate.status_code, void.status_code) == (404, 404)
    assert ranges_of(session_factory, employers["school"]) == before
    with session_factory() as session:
        assert session.get(CertificateNumber, number).status == "assigned"


def test_a_number_of_another_employer_cannot_be_voided_through_this_employers_page(
    login_as, session_factory, employers
):
    number = drawn_number(session_factory, employers["school"])
    city = login_as("pds-reviewer")  # sees both employers
    token = csrf_token(text(city.get("/number-ranges")))
    response = city.post(
        f"/number-ranges/{employers['hospital']}/void",
        data={"csrf_token": token, "number": number, "reason": "错号"},
    )
    assert response.status_code == 422 and "从未发放" in text(response)
    with session_factory() as session:
        assert session.get(CertificateNumber, number).status == "assigned"


def test_the_hrss_voids_a_number_with_a_reason_and_the_record_says_who(login_as, session_factory, employers):
    number = drawn_number(session_factory, employers["hospital"])
    county = login_as("yexian-reviewer")
    page = county.get(f"/number-ranges/{employers['hospital']}?void={number}")
    assert f'value="{number}"' in text(page)  # the row's 作废 link fills the form
    token = csrf_token(text(page))
    url = f"/number-ranges/{employers['hospital']}/void"

    missing = county.post(url, data={"csrf_token": token, "number": number, "reason": "  "})
    assert missing.status_code == 422 and "请填写作废原因" in text(missing)
    done = county.post(url, data={"csrf_token": token, "number": number, "reason": "证书遗失，重新编号"})
    assert done.status_code == 302
    again = county.post(url, data={"csrf_token": token, "number": number, "reason": "再次作废"})
    assert again.status_code == 422 and "已作废" in text(again)

    with session_factory() as session:
        record = session.get(CertificateNumber, number)
        voider = session.scalar(select(User.username).where(User.id == record.voided_by_id))
        holder = session.get(Person, record.person_id)
        assert (record.status, record.void_reason, voider) == (
            "voided",
            "证书遗失，重新编号",
            "yexian-reviewer",
        )
        assert holder.certificate_number is None
    shown = text(county.get(f"/number-ranges/{employers['hospital']}"))
    assert "证书遗失，重新编号" in shown and "叶县人社局审核员" in shown


def test_the_employer_reads_its_own_ranges_and_allocates_nothing(login_as, session_factory, employers):
    hr = login_as("yexian-hr")
    home = hr.get("/number-ranges")
    assert home.status_code == 302 and home.headers["Location"].endswith(
        f"/number-ranges/{employers['hospital']}"
    )
    page = text(hr.get(f"/number-ranges/{employers['hospital']}"))
    assert (
        'id="employer-ranges"' in page and 'id="allocate-form"' not in page and 'id="void-form"' not in page
    )
    before = ranges_of(session_factory, employers["hospital"])
    refused = hr.post(
        f"/number-ranges/{employers['hospital']}/allocate",
        data={"csrf_token": csrf_token(page), "size": "10"},
    )
    assert refused.status_code == 403
    assert ranges_of(session_factory, employers["hospital"]) == before
    assert hr.get(f"/number-ranges/{employers['school']}").status_code == 404


def test_a_range_beyond_the_limit_is_refused_in_chinese_and_nothing_is_allocated(
    login_as, session_factory, employers
):
    county = login_as("yexian-reviewer")
    page = text(county.get(f"/number-ranges/{employers['hospital']}"))
    before = ranges_of(session_factory, employers["hospital"])
    for size in ("0", "100001", ""):
        response = county.post(
            f"/number-ranges/{employers['hospital']}/allocate",
            data={"csrf_token": csrf_token(page), "size": size},
        )
        assert response.status_code == 422 and "号码" in text(response), size
    assert ranges_of(session_factory, employers["hospital"]) == before


def test_the_service_keeps_ranges_consecutive_under_one_prefix(session_factory, employers, login_as):
    """Allocations of two employers by the same HRSS never overlap (R5: no duplicates)."""
    with session_factory() as session:
        hrss = session.scalar(
            select(Organisation.id).where(Organisation.kind == "hrss", Organisation.region_code == "410422")
        )
        allocate_range(session, hrss, employers["hospital"], 5, NOW)
        session.commit()
        counted = session.scalar(select(func.count()).select_from(NumberRange))
    county = login_as("yexian-reviewer")
    token = csrf_token(text(county.get("/number-ranges")))
    county.post(f"/number-ranges/{employers['hospital']}/allocate", data={"csrf_token": token, "size": "7"})
    with session_factory() as session:
        rows = session.execute(
            select(NumberRange.first, NumberRange.last)
            .where(NumberRange.prefix == "4104222025")
            .order_by(NumberRange.first)
        ).all()
        assert session.scalar(select(func.count()).select_from(NumberRange)) == counted + 1
    assert all(before.last + 1 == after.first for before, after in zip(rows, rows[1:], strict=False))
