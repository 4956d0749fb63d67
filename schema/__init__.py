"""Every table of CE Flow on one metadata: what Alembic compares and the tests create.

The tables are declared beside the rules that use them (domain contexts, the engine's runtime and
inbox); importing this package registers all of them on `domain.base.Base.metadata`.
"""

import domain.accounts.users
import domain.attachments
import domain.calendar.holidays
import domain.calendar.policy
import domain.certificates.records
import domain.courses.enrolment
import domain.courses.pass_certificate
import domain.courses.records
import domain.courses.scores
import domain.files
import domain.notices.centre
import domain.notices.records
import domain.organisations.records
import domain.persons.records
import domain.supervision.notices
import engine.inbox.saved_filters
import engine.runtime.models
import engine.timers.heartbeat
from domain.base import Base

TABLE_MODULES = (
    domain.accounts.users,
    domain.attachments,
    domain.files,
    domain.calendar.holidays,
    domain.calendar.policy,
    domain.certificates.records,
    domain.courses.enrolment,
    domain.courses.pass_certificate,
    domain.courses.records,
    domain.courses.scores,
    domain.notices.centre,
    domain.notices.records,
    domain.organisations.records,
    domain.persons.records,
    domain.supervision.notices,
    engine.inbox.saved_filters,
    engine.runtime.models,
    engine.timers.heartbeat,
)
metadata = Base.metadata
