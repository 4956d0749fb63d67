"""Choice lists shared by several forms."""

from flask_babel import lazy_gettext as _l

from domain.persons import TitleLevel

TITLE_LEVELS = [
    (TitleLevel.SENIOR_FULL, _l("Senior (full)")),
    (TitleLevel.SENIOR_ASSOCIATE, _l("Senior (associate)")),
    (TitleLevel.INTERMEDIATE, _l("Intermediate")),
    (TitleLevel.JUNIOR, _l("Junior")),
]
APPLYING_KINDS = [
    ("employer", _l("Employer")),
    ("authority", _l("Industry authority")),
    ("institution", _l("Training institution")),
]
