"""The directory pages and API follow R15: own records open, anyone else's answer 404 (pages and JSON)."""

import pytest
from sqlalchemy import select

from domain.organisations.records import Organisation
from domain.persons.records import Person
from infra import keyset


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def records(app, session_factory) -> dict[str, int | str]:
    """Ids of demo records the matrix names, and the demo professional's login."""
    with session_factory() as session:
        org = {
            name: session.scalar(select(Organisation.id).where(Organisation.name == name))
            for name in (
                "叶县人民医院",
                "鲁山县第一中学",
                "平顶山市专业技术人员继续教育基地",
                "平顶山市教育局",
            )
        }
        province = session.scalar(
            select(Organisation.id).where(Organisation.kind == "hrss", Organisation.region_code == "410000")
        )
        zhao = session.scalars(select(Person).where(Person.name == "赵一")).one()
        qian = session.scalar(select(Person.id).where(Person.name == "钱二"))
        lushan = session.scalar(select(Person.id).where(Person.region_code == "410423").limit(1))
        # an employer in 叶县 under the county's own authority, not under the city education bureau
        other_yexian = session.scalar(
            select(Organisation.id).where(
                Organisation.kind == "employer",
                Organisation.region_code == "410422",
                Organisation.authority_id != org["平顶山市教育局"],
            )
        )
        other_yexian_person = session.scalar(
            select(Person.id).where(Person.employer_id == other_yexian).limit(1)
        )
    found = {
        "hospital": org["叶县人民医院"],
        "school": org["鲁山县第一中学"],
        "cebase": org["平顶山市专业技术人员继续教育基地"],
        "education": org["平顶山市教育局"],
        "province": province,
        "other_yexian": other_yexian,
        "zhao": zhao.id,
        "zhao_login": zhao.id_number,
        "qian": qian,
        "lushan_person": lushan,
        "other_yexian_person": other_yexian_person,
    }
    assert None not in found.values(), found
    return found


# login -> (organisations that open, organisations that do not, persons that open, persons that do not)
MATRIX = {
    "pds-reviewer": (["hospital", "school", "cebase"], ["province"], ["zhao", "lushan_person"], []),
    "yexian-reviewer": (
        ["hospital", "other_yexian"],
        ["school", "cebase", "province"],
        ["zhao", "other_yexian_person"],
        ["lushan_person"],
    ),
    "pds-education": (
        ["education", "hospital", "school"],
        ["other_yexian", "cebase"],
        ["zhao", "qian"],
        ["other_yexian_person"],
    ),
    "yexian-hr": (["hospital"], ["school", "education", "other_yexian"], ["zhao", "qian"], ["lushan_person"]),
    "pds-cebase": (["cebase"], ["hospital", "school"], [], ["zhao", "lushan_person"]),
    "person": (["hospital"], ["school", "other_yexian"], ["zhao"], ["qian", "lushan_person"]),
}


@pytest.mark.parametrize("login", sorted(MATRIX))
def test_own_records_open_and_others_answer_404_on_pages_and_api(app, login_as, records, login):
    browser = login_as(records["zhao_login"] if login == "person" else login, into=app.test_client())
    orgs_open, orgs_closed, persons_open, persons_closed = MATRIX[login]
    for kind, keys, status in [
        ("organisations", orgs_open, 200),
        ("organisations", orgs_closed, 404),
        ("persons", persons_open, 200),
        ("persons", persons_closed, 404),
    ]:
        for key in keys:
            page = browser.get(f"/{kind}/{records[key]}")
            api = browser.get(f"/api/{kind}/{records[key]}")
            assert (page.status_code, api.status_code) == (status, status), f"{login} {kind} {key}"
            assert api.is_json
            if status == 200:
                assert api.get_json()["id"] == records[key]
            else:
                assert api.get_json()["error"] == "not_found"


def test_lists_show_only_the_jurisdiction(app, login_as, records):
    county = login_as("yexian-reviewer", into=app.test_client())
    listed = county.get("/api/organisations?limit=200").get_json()["items"]
    assert {row["region_code"] for row in listed} == {"410422"}
    employer = login_as("yexian-hr", into=app.test_client())
    persons = employer.get("/api/persons").get_json()["items"]
    assert {row["employer_name"] for row in persons} == {"叶县人民医院"}
    assert {"赵一", "钱二", "孙三"} <= {row["name"] for row in persons}
    page = employer.get("/persons")
    assert page.status_code == 200 and "赵一" in text(page) and records["zhao_login"] in text(page)


def test_not_signed_in_the_api_answers_401_json_and_the_pages_redirect(client, records):
    for path in ("/api/organisations", "/api/persons", f"/api/organisations/{records['hospital']}"):
        response = client.get(path)
        assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    assert client.get("/organisations").status_code == 302
    assert client.get(f"/persons/{records['zhao']}").status_code == 302


def test_search_filters_work_on_the_page_and_the_api(app, login_as, records):
    city = login_as("pds-reviewer", into=app.test_client())
    page = city.get("/organisations", query_string={"kind": "employer", "region": "410423", "q": "第一中学"})
    assert page.status_code == 200 and "鲁山县第一中学" in text(page) and "叶县人民医院" not in text(page)
    hrss = city.get("/api/organisations", query_string={"kind": "hrss"}).get_json()
    assert {row["kind"] for row in hrss["items"]} == {"hrss"} and len(hrss["items"]) == 13
    pending = city.get(
        "/api/organisations", query_string={"status": "pending", "region": "410422"}
    ).get_json()
    assert [row["name"] for row in pending["items"]] == ["叶县第二高级中学"]
    assert pending["status_counts"]["pending"] == 1 and pending["status_counts"]["active"] > 1
    found = city.get("/api/persons", query_string={"q": records["zhao_login"][:10]}).get_json()["items"]
    assert "赵一" in {row["name"] for row in found}
    assert all(row["id_number"].startswith(records["zhao_login"][:10]) for row in found)
    juniors = city.get(
        "/api/persons", query_string={"employer_id": records["hospital"], "title_level": "junior"}
    )
    assert [row["name"] for row in juniors.get_json()["items"]] == ["钱二"]
    assert city.get("/api/persons?employer_id=abc").status_code == 400
    assert city.get("/persons?after=nonsense").status_code == 400


def test_the_api_pages_by_keyset(app, login_as):
    city = login_as("pds-reviewer", into=app.test_client())
    first = city.get("/api/persons?limit=25").get_json()
    second = city.get("/api/persons", query_string={"limit": 25, "after": first["next_after"]}).get_json()
    assert len(first["items"]) == len(second["items"]) == 25
    both = city.get("/api/persons?limit=50").get_json()
    assert [row["id"] for row in first["items"] + second["items"]] == [row["id"] for row in both["items"]]
    page = city.get("/persons")
    assert "Next page" in text(page) or "下一页" in text(page)


def test_an_authority_sees_id_numbers_masked(app, login_as, records):
    authority = login_as("pds-education", into=app.test_client())
    zhao = authority.get(f"/api/persons/{records['zhao']}").get_json()
    number = records["zhao_login"]
    assert zhao["id_number"] == f"{number[:6]}********{number[-4:]}" and zhao["id_number_masked"]
    assert zhao["birth_date"] is None
    assert number not in text(authority.get(f"/persons/{records['zhao']}"))
    county = login_as("yexian-reviewer", into=app.test_client())
    assert county.get(f"/api/persons/{records['zhao']}").get_json()["id_number"] == number


def test_a_count_above_the_cap_reads_more_than_the_cap(client, login_as, monkeypatch):
    login_as("pds-reviewer")
    monkeypatch.setattr(keyset, "COUNT_CAP", 100)  # the city's thousands of persons stand for millions
    page = text(client.get("/persons"))
    assert '<span class="badge" id="count-all">100+</span>' in page
    assert '<span class="badge" id="count-active">100+</span>' in page
    listed = client.get("/api/persons").get_json()
    assert listed["count_cap"] == 100 and listed["status_counts"]["active"] == 101
    assert len(listed["items"]) == 50  # the list itself is not capped: its first page
