"""The report's top questions are the groups the host saw live: same wording, same counts, same order.

The live path files every comment through `CommentTriage` in arrival order; the report groups the
distinct texts in the order they were first sent (questions.py). A simulated room asks the demo's
questions in both scripts and with emoji, so the order-dependent grouping is exercised."""

from __future__ import annotations

from livecompanion.analytics.pseudonym import Pseudonymizer
from livecompanion.analytics.report import compute_report
from livecompanion.demo import SAMPLE_SCRIPT, load_script
from livecompanion.demo.simulator import simulate
from livecompanion.ingest.comments import CommentTriage


def test_report_top_questions_equal_the_live_board() -> None:
    script = load_script(SAMPLE_SCRIPT)
    events = list(simulate(script, seed=11, room_size=400))
    live = CommentTriage()
    for e in events:  # the simulator's order is the arrival order
        if e["type"] == "comment":
            live.handle(e["text"], e.get("user_id"), e["ts"])
    report = compute_report(events, script, pseudonymizer=Pseudonymizer("k"), questions_limit=10)
    shown_live = [(g.text, g.count, g.asks) for g in live.questions.top(10)]
    shown_report = [(q["text"], q["count"], q["asks"]) for q in report["questions"]]
    assert len(shown_live) == 10
    # Ranked alike except ties: live breaks them by the latest ask, the report by the first.
    assert sorted(shown_report) == sorted(shown_live)
    assert [c for _, c, _ in shown_report] == [c for _, c, _ in shown_live]
