"""Two instances starting at once on a fresh PostgreSQL database both come up: migrations take an
advisory lock (migrations/env.py), so the later ones wait and find the schema current instead of
failing on a duplicate table (seen starting the soak's two instances at once)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_upgrades_at_once_all_succeed(postgres_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
    code = "import sys; from livecompanion.storage.migrate import upgrade; upgrade(sys.argv[1])"
    runs = [subprocess.Popen([sys.executable, "-c", code, postgres_url], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(4)]
    outcomes = [(run.wait(120), run.stdout.read().decode()[-400:] if run.stdout else "") for run in runs]
    assert [rc for rc, _ in outcomes] == [0] * 4, outcomes
