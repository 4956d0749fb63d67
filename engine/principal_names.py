"""Who a principal is, in words: a user's display name, a group's office and role."""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts import User
from domain.organisations import Organisation


def principal_names(session: Session, principals: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Name principals as (name, role) in at most three indexed queries; unknown ones are left out."""
    principals = set(principals)
    users = [int(p[2:]) for p in principals if p.startswith("u:") and p[2:].isdigit()]
    parts = [p.split(":") for p in principals if not p.startswith("u:")]
    pairs = [(q[1], q[2]) for q in parts if len(q) == 4 and q[0] == "g"]
    org_ids = [int(q[1]) for q in parts if len(q) == 3 and q[0] == "o" and q[1].isdigit()]
    names = {}
    if users:
        found_users = session.execute(select(User.id, User.display_name).where(User.id.in_(users)))
        names = {f"u:{user_id}": (display_name, "") for user_id, display_name in found_users}
    offices = select(Organisation.id, Organisation.kind, Organisation.region_code, Organisation.name)
    found = session.execute(offices.where(Organisation.id.in_(org_ids))).all() if org_ids else []
    if pairs:  # by region first: the (region_code, kind) index finds the offices
        regions, kinds = {region for _, region in pairs}, {kind for kind, _ in pairs}
        found += session.execute(
            offices.where(Organisation.region_code.in_(regions), Organisation.kind.in_(kinds))
        ).all()
    for org_id, kind, region, name in found:
        for role in {q[-1] for q in parts}:
            names[f"o:{org_id}:{role}"] = (name, role)
            names[f"g:{kind}:{region}:{role}"] = (name, role)
    return names
