"""The regions CE Flow ships with: Henan province, Pingdingshan city and its counties and districts."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.organisations.records import Region

HENAN = "410000"
PINGDINGSHAN = "410400"
PINGDINGSHAN_REGIONS = [
    (HENAN, "河南省", "province", None),
    (PINGDINGSHAN, "平顶山市", "city", HENAN),
    ("410402", "新华区", "county", PINGDINGSHAN),
    ("410403", "卫东区", "county", PINGDINGSHAN),
    ("410404", "石龙区", "county", PINGDINGSHAN),
    ("410411", "湛河区", "county", PINGDINGSHAN),
    ("410421", "宝丰县", "county", PINGDINGSHAN),
    ("410422", "叶县", "county", PINGDINGSHAN),
    ("410423", "鲁山县", "county", PINGDINGSHAN),
    ("410425", "郏县", "county", PINGDINGSHAN),
    ("410481", "舞钢市", "county", PINGDINGSHAN),
    ("410482", "汝州市", "county", PINGDINGSHAN),
    ("410471", "平顶山高新技术产业开发区", "county", PINGDINGSHAN),
    ("410472", "平顶山城乡一体化示范区", "county", PINGDINGSHAN),
]


def seed_regions(session: Session) -> int:
    """Insert the shipped regions that are missing; return how many were added."""
    present = set(session.execute(select(Region.code)).scalars())
    added = 0
    for code, name, level, parent in PINGDINGSHAN_REGIONS:
        if code not in present:
            session.add(Region(code=code, name=name, level=level, parent_code=parent))
            added += 1
    session.flush()
    return added
