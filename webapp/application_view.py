"""The application on a task page: the fields a reviewer reads, labelled and in a fixed order."""

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from domain.organisations.records import Region
from forms.choices import APPLICATION_KIND_LABELS
from forms.choices import TITLE_LEVEL_LABELS

# (data key, label); keys a process's data does not carry are left out
FIELDS = (
    ("name", _l("Name")),
    ("kind", _l("Type")),
    ("uscc", _l("Unified social credit code")),
    ("region_code", _l("Region")),
    ("title_level", _l("Title level")),
    ("title_series", _l("Title series")),
    ("expected_persons", _l("Professionals employed")),
    ("contact_name", _l("Contact")),
    ("contact_phone", _l("Phone")),
    ("subject", _l("Subject")),
    ("description", _l("Description")),
)


def application_rows(session: Session, data: dict) -> list[tuple[str, str]]:
    """Return (label, value) of the application fields present in a task's data, values in words."""
    words = {
        "kind": {key: str(label) for key, label in APPLICATION_KIND_LABELS.items()},
        "title_level": {value: str(label) for value, label in TITLE_LEVEL_LABELS.items()},
    }
    rows = []
    for key, label in FIELDS:
        value = data.get(key)
        if value is None or value == "":
            continue
        if key == "name" and "person_id" not in data:
            label = _l("Organisation name")
        if key == "region_code":
            region = session.get(Region, str(value))
            value = f"{region.name}（{value}）" if region else value
        rows.append((str(label), str(words.get(key, {}).get(value, value))))
    return rows
