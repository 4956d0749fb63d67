"""Each diagram of the BPMN MIWG test suite deploys (and starts) or is refused with readable reasons."""

import re
from pathlib import Path

import pytest

from engine.errors import DiagramRefused
from engine.runtime.definitions import deploy
from engine.tasks.commands import start_instance

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "bpmn-miwg"
if not CORPUS.is_dir():
    pytest.skip(f"the BPMN MIWG corpus is not at {CORPUS}", allow_module_level=True)

FILES = sorted(CORPUS.rglob("*.bpmn"))
UNREADABLE = {
    "an object repr": re.compile(r"<\w*Element\b|\bat 0x[0-9a-fA-F]+"),
    "a traceback": re.compile(r"Traceback|File \"[^\"]+\", line \d+"),
    "a bare exception name": re.compile(r"^\s*\w+(Error|Exception)\s*$"),
    "doubled punctuation": re.compile(r"\.\s*\.(?!\.)"),
}


def unreadable(reason: str) -> list[str]:
    """Return what keeps a refusal reason from being a sentence a diagram author can act on."""
    found = [what for what, pattern in UNREADABLE.items() if pattern.search(reason)]
    if "\n" in reason:
        found.append("several lines")
    if len(reason.split()) < 3:
        found.append("too short to explain anything")
    return found


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_a_corpus_diagram_deploys_and_starts_or_is_refused_with_readable_reasons(path, rt):
    try:
        deployed = deploy(rt, path.read_bytes(), path.name, "corpus")
    except DiagramRefused as refused:
        assert refused.problems, "a refusal must say why"
        for element, reason in refused.problems:
            assert not unreadable(reason), (element, reason, unreadable(reason))
        return
    assert start_instance(rt, deployed.process_key, None, {}) > 0
