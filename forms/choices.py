"""Choice lists shared by several forms, and the labels pages show for the same values."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from domain.persons.records import TitleLevel

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
TITLE_LEVEL_LABELS = {choice.value: choice.label for choice in TITLE_LEVELS}
ORGANISATION_KIND_LABELS = {
    "hrss": _l("HRSS"),
    "authority": _l("Industry authority"),
    "employer": _l("Employer"),
    "institution": _l("Training institution"),
}
# An application's kind says 用人单位 for an employer: "Employer" reads 所在单位, a person's workplace.
APPLICATION_KIND_LABELS = ORGANISATION_KIND_LABELS | {"employer": _l("Employing organisation")}
