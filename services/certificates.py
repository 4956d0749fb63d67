"""Number-range use cases (号段, R5): an HRSS allocates a range to an employer, or voids a number, audited."""

from domain.accounts.users import Actor
from domain.certificates.numbers import allocate_range
from domain.certificates.numbers import void_number
from domain.certificates.ranges import managed_employer
from domain.certificates.ranges import number_employer
from domain.certificates.records import CertificateError
from engine.runtime import Runtime
from engine.runtime import unit_of_work


def allocate_number_range(rt: Runtime, actor: Actor, employer_id: int, size: int) -> tuple[str, int, int]:
    """Allocate the next `size` numbers of the actor's HRSS to an employer in its jurisdiction.

    Return the prefix and the first and last sequence. Raise NotVisible for an employer outside the
    jurisdiction and CertificateError when the actor is no HRSS or the range cannot be allocated.
    """
    with unit_of_work(rt) as session:
        managed_employer(session, actor, employer_id)
        allocated = allocate_range(session, actor.organisation_id, employer_id, size, rt.clock())
        return allocated.prefix, allocated.first, allocated.last


def void_certificate_number(rt: Runtime, actor: Actor, employer_id: int, number: str, reason: str) -> None:
    """Void one of an employer's numbers for a reason, recording who voided it and when.

    Raise NotVisible for an employer outside the actor's jurisdiction and CertificateError when the
    number is not this employer's, is void already, or no reason is given.
    """
    number = (number or "").strip()
    with unit_of_work(rt) as session:
        managed_employer(session, actor, employer_id)
        if number_employer(session, number) != employer_id:
            raise CertificateError("number_never_assigned", number=number)
        void_number(session, number, reason, rt.clock(), by_user_id=actor.id)
