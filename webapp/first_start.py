"""First-start set-up, as configured: the reference data every installation needs."""

from pathlib import Path

from engine.runtime import Runtime
from services import installation


def initialise_database(rt: Runtime, config) -> str:
    """Seed the reference data, and the bundled diagrams unless SEED_BPMN is off; say what was added."""
    bpmn_dir = Path(config["BPMN_DIR"]) if config["SEED_BPMN"] else None
    return installation.initialise_database(rt, bpmn_dir)
