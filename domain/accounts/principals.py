"""Principals: the strings a task's candidates and a user's memberships are matched by in the inbox.

`u:<user id>` names one user, `g:<kind>:<region>:<role>` a role in the organisation of a kind in a
region, `o:<organisation id>:<role>` a role in one particular organisation.
"""

from collections.abc import Iterable
from dataclasses import dataclass


def user_principal(user_id: int) -> str:
    """Return the principal that names one user."""
    return f"u:{user_id}"


def org_principal(organisation_id: int, role: str) -> str:
    """Return the principal of a role in one particular organisation."""
    return f"o:{organisation_id}:{role}"


def group_principal(kind: str, region_code: str, role: str) -> str:
    """Return the principal of a role in the organisation of a kind in a region."""
    return f"g:{kind}:{region_code}:{role}"


@dataclass(frozen=True)
class Principals:
    """Principals by what they name: users, groups (kind, region, role), organisations (id, role)."""

    users: tuple[int, ...]
    groups: tuple[tuple[str, str, str], ...]
    organisations: tuple[tuple[int, str], ...]

    @property
    def roles(self) -> set[str]:
        """Return the roles the group and organisation principals name."""
        return {role for *_, role in self.groups} | {role for _, role in self.organisations}


def parse_principals(principals: Iterable[str]) -> Principals:
    """Sort principals (as the three functions above write them) by kind; malformed ones are left out."""
    users, groups, organisations = [], [], []
    for principal in principals:
        parts = principal.split(":")
        if parts[0] == "u" and len(parts) == 2 and parts[1].isdigit():
            users.append(int(parts[1]))
        elif parts[0] == "g" and len(parts) == 4:
            groups.append((parts[1], parts[2], parts[3]))
        elif parts[0] == "o" and len(parts) == 3 and parts[1].isdigit():
            organisations.append((int(parts[1]), parts[2]))
    return Principals(tuple(users), tuple(groups), tuple(organisations))
