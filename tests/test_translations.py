"""Chinese first: every UI string in the code and templates has a zh translation in the catalog."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from engine.tasks.permissions import REASON_CODES

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


PERMISSIONS = ROOT / "engine" / "tasks" / "permissions.py"


def _coded_error_classes() -> dict[str, type]:
    """Import every domain and engine module and return the CodedError subclasses by name."""
    from domain.refusals import CodedError

    for package in ("domain", "engine"):
        for path in (ROOT / package).rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            importlib.import_module(module.removesuffix(".__init__"))
    found, todo = {}, [CodedError]
    while todo:
        kind = todo.pop()
        found[kind.__name__] = kind
        todo += kind.__subclasses__()
    return found


def _own_init(kind: type) -> bool:
    from domain.refusals import CodedError

    return any("__init__" in vars(k) for k in kind.__mro__[: kind.__mro__.index(CodedError)])


def _raised_codes() -> tuple[set[str], list[str], set[str]]:
    """Return the codes domain and engine raise, the calls whose code is not a literal, and action words."""
    classes = _coded_error_classes()
    codes, hidden, actions = set(), [], set()
    for package in ("domain", "engine"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name in classes:
                    for call in ast.walk(node):
                        if isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "__init__":
                            codes |= {a.value for a in call.args[:2] if isinstance(a, ast.Constant)}
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in ("require_opinion", "refuse_if_countersigning"):
                    actions |= {a.value for a in node.args if isinstance(a, ast.Constant)}
                if name not in classes or _own_init(classes[name]):
                    continue
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    codes.add(first.value)
                elif path != PERMISSIONS:  # the permission function raises its REASON_CODES, listed there
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return codes | set(REASON_CODES), hidden, actions


def test_every_error_code_raised_by_domain_and_engine_has_a_message():
    from webapp.messages import ACTIONS
    from webapp.messages import MESSAGES

    codes, hidden, actions = _raised_codes()
    assert hidden == [], "raise coded errors with a literal code, so that this test sees it"
    assert {"not_found", "opinion_required", "username_taken", "file_empty"} <= codes
    assert sorted(codes - set(MESSAGES)) == [], "add these codes to webapp/messages.py or forms/messages.py"
    assert sorted(actions - set(ACTIONS)) == [], "add these action words to webapp.messages.ACTIONS"
    assert sorted(set(MESSAGES) - codes - {"area_code_unknown"}) == [], "messages nobody raises"
