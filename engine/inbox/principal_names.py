"""Who a principal is, in words: a user's display name, a group's office and role."""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts.principals import parse_principals
from domain.accounts.users import User
from domain.organisations.records import Organisation


def principal_names(session: Session, principals: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Name principals as (name, role) in at most three indexed queries; unknown ones are left out."""
    parsed = parse_principals(set(principals))
    users = parsed.users
    pairs = [(kind, region) for kind, region, _ in parsed.groups]
    org_ids = [org_id for org_id, _ in parsed.organisations]
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
        for role in parsed.roles:
            names[f"o:{org_id}:{role}"] = (name, role)
            names[f"g:{kind}:{region}:{role}"] = (name, role)
    return names
