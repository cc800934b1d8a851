"""`pip install livecompanion` (a wheel, not a checkout) must serve the OBS pages and migrate its
database: overlays/ and migrations/ sit at the top of the repository and ship inside the package
(setup.py). Before that, an installed `livecompanion serve` stopped at Alembic's "Path doesn't
exist: .../site-packages/migrations" and would have answered the overlay with a missing file."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(300)
def test_the_wheel_holds_the_overlays_and_the_migrations(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path),
                            str(ROOT)], capture_output=True, text=True, timeout=280)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("livecompanion-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for page in ("overlay.html", "overlay.js", "overlay.css"):
        assert f"livecompanion/overlays/{page}" in names
    assert {"livecompanion/migrations/env.py", "livecompanion/migrations/script.py.mako"} <= names
    versions = {p.name for p in (ROOT / "migrations" / "versions").glob("*.py")}
    assert versions and {f"livecompanion/migrations/versions/{v}" for v in versions} <= names
    assert "livecompanion/sales/lua/claim.lua" in names  # the package's own data, as before
    assert not any(n.startswith(("overlays/", "migrations/", "tests/")) for n in names)
