"""How far the ad-law lint's detectors made of data get without the phrase families (issue 18,
fifth session): `.venv/bin/python scripts/ablate_adlaw.py [--law]`.

The terms file keeps the fifth session's detectors last, after the line starting with
`# ---------- fifth session`. This script builds a terms file holding only those entries (and the
lexicons), or with `--law` also the first list written from the text of the laws (the entries
before `# ---- origin and world-first claims`, the first issue-18 family), and prints recall on each
penalty part and precision on the copy: an estimate of what the lint catches by shape rather than
by listed phrase. Issue-18 phrase families are the rest of the file.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from livecompanion.scripts import adlaw  # noqa: E402
from tests.load_script import load_script  # noqa: E402

ENTRY = re.compile(r"(?m)^  - (?:pattern|term):")
DETECTORS = "  # ---------- fifth session"
FAMILIES = "  # ------------------------------------------------ origin and world-first"


def reduced_terms(with_law: bool) -> Path:
    source = adlaw.BUILTIN_TERMS_FILE.read_text("utf-8")
    detectors = len(ENTRY.findall(source[source.index(DETECTORS):]))
    law = len(ENTRY.findall(source[:source.index(FAMILIES)]))
    data = yaml.safe_load(source)
    data["terms"] = (data["terms"][:law] if with_law else []) + data["terms"][-detectors:]
    path = Path(tempfile.mkdtemp(prefix="adlaw-ablate-")) / "terms.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--law", action="store_true", help="keep the law's first list too")
    args = parser.parse_args(argv)
    evaluation = load_script("eval_adlaw")
    adlaw.BUILTIN_TERMS_FILE = reduced_terms(args.law)
    adlaw._matcher.cache_clear()
    print("detectors" + (" + the law's first list" if args.law else " alone"))
    for split in ("dev", "heldout"):
        r = evaluation.score(adlaw, split, show=False)
        v, a = r["violation"], r["all"]
        print(f"  {split:8} {r['penalties']} phrases: recall {v['recall']:.3f} / {a['recall']:.3f}; "
              f"copy precision {evaluation._fmt(v['precision'])} / {evaluation._fmt(a['precision'])} "
              f"({a['hits']} hits, {len(a['unjudged'])} unjudged)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
