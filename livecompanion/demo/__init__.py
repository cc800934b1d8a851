"""`livecompanion demo`: a sample script served with a simulated audience, and the simulator itself.

The simulator (`livecompanion.demo.simulator`) is pure and seeded; it is also the load generator of
the benchmarks (`scripts/simulate.py`). The runner (`livecompanion.demo.runner`) serves a stream of
the sample script and plays the show through the service's own HTTP API.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livecompanion.config import Settings
    from livecompanion.scripts.models import Script

SAMPLE_SCRIPT = Path(__file__).resolve().parent / "sample_script.yaml"


def load_script(path: Path = SAMPLE_SCRIPT) -> Script:
    """A live script checked like `livecompanion validate` does; ValueError with the findings if invalid."""
    from livecompanion.scripts import check_file

    result = check_file(path)
    if not result.ok or result.script is None:
        raise ValueError("\n".join(f.format() for f in result.findings) or f"{path}: not a valid live script")
    return result.script


def run_demo(settings: Settings, speed: float = 1.0, seed: int = 7, **options: Any) -> int:
    """Serve the sample script and play it with a simulated audience; the exit code of the command."""
    from livecompanion.demo.runner import run_demo as run

    return run(settings, speed=speed, seed=seed, **options)


__all__ = ["SAMPLE_SCRIPT", "load_script", "run_demo"]
