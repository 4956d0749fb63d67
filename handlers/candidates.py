"""Candidate rules: who may work a user task, named by the task's lane (or its `candidates` property)."""

from sqlalchemy.orm import Session

from domain.accounts.principals import group_principal
from domain.accounts.principals import org_principal
from domain.organisations.records import RegionLevel
from domain.organisations.records import ancestors
from domain.organisations.records import load_regions
from domain.organisations.records import region_at_level

# The engine's Candidates type is duck-typed here: handlers never import the engine.
Result = tuple[tuple[str, ...], tuple[int, ...]]


def applicant(session: Session, data: dict, level: int) -> Result:
    """The person who started the process."""
    if data.get("initiator_id") is None:
        raise LookupError("the process was started without an applicant, so the applicant's step has nobody")
    return (), (int(data["initiator_id"]),)


def _hrss_role(session: Session, data: dict, level: int, at_level: str | None, role: str) -> Result:
    regions = load_regions(session)
    code = data.get("region_code")
    if code not in regions:
        raise LookupError(f"the application names no known region (region_code={code!r})")
    if at_level is not None:
        code = region_at_level(regions, code, at_level) or code
    chain = [code, *ancestors(regions, code)]
    target = chain[min(level, len(chain) - 1)]
    return (group_principal("hrss", target, role),), ()


def region_hrss_reviewer(session: Session, data: dict, level: int) -> Result:
    """Reviewers of the HRSS of the applicant's own region; each escalation goes one level up."""
    return _hrss_role(session, data, level, None, "reviewer")


def county_hrss_reviewer(session: Session, data: dict, level: int) -> Result:
    """Reviewers of the county HRSS of the applicant's region; escalations go to the city, then province."""
    return _hrss_role(session, data, level, RegionLevel.COUNTY, "reviewer")


def city_hrss_approver(session: Session, data: dict, level: int) -> Result:
    """Approvers of the city HRSS above the applicant's region."""
    return _hrss_role(session, data, level, RegionLevel.CITY, "approver")


def employer_hr(session: Session, data: dict, level: int) -> Result:
    """HR staff of the employer a person registers with."""
    if data.get("employer_id") is None:
        raise LookupError("the application names no employer (employer_id)")
    return (org_principal(int(data["employer_id"]), "hr"),), ()


RULES = {
    "applicant": applicant,
    "region_hrss_reviewer": region_hrss_reviewer,
    "county_hrss_reviewer": county_hrss_reviewer,
    "city_hrss_approver": city_hrss_approver,
    "employer_hr": employer_hr,
}
LANE_LABELS = {
    "申请人": "applicant",
    "本级人社局审核": "region_hrss_reviewer",
    "县级人社局审核": "county_hrss_reviewer",
    "市级人社局审批": "city_hrss_approver",
    "单位人事审核": "employer_hr",
}


def candidate_rules() -> dict:
    """Return every rule by key and by its Chinese lane label."""
    table = dict(RULES)
    table.update({label: RULES[key] for label, key in LANE_LABELS.items()})
    return table
