"""Chinese first: every UI string in the code and templates has a zh translation in the catalog."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "webapp" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def _extracted(tmp_path: Path) -> set[str]:
    template = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg"]
        + ["-k", "_l", "-k", "lazy_gettext", "-o", str(template), "forms", "webapp"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with template.open("rb") as found:
        return {message.id for message in read_po(found) if message.id}


def test_every_ui_string_has_a_chinese_translation(tmp_path):
    with CATALOG.open("rb") as found:
        translated = {message.id for message in read_po(found) if message.id and message.string}
    missing = sorted(str(m) for m in _extracted(tmp_path) - translated)
    assert missing == [], (
        "untranslated UI strings; run pybabel extract/update and fill webapp/translations/zh: "
        + "; ".join(missing[:20])
    )
