"""Choice lists shared by several forms."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from domain.persons import TitleLevel

TITLE_LEVELS = [
    SelectChoice(TitleLevel.SENIOR_FULL, _l("Senior (full)")),
    SelectChoice(TitleLevel.SENIOR_ASSOCIATE, _l("Senior (associate)")),
    SelectChoice(TitleLevel.INTERMEDIATE, _l("Intermediate")),
    SelectChoice(TitleLevel.JUNIOR, _l("Junior")),
]
APPLYING_KINDS = [
    SelectChoice("employer", _l("Employer")),
    SelectChoice("authority", _l("Industry authority")),
    SelectChoice("institution", _l("Training institution")),
]
