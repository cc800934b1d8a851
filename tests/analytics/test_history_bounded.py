"""A report's history is bounded work: the last HISTORY_STREAMS streams before it, each computed
once per state of its record (issue 13: with every earlier stream computed afresh for each report,
a benchmark's 180th stream took over 5 minutes)."""

from __future__ import annotations

from typing import Any

import pytest

from livecompanion.analytics import service
from livecompanion.scripts import check_file
from livecompanion.storage.streams import create_stream
from tests.stream.conftest import EXAMPLE, make_services


async def test_history_is_the_last_streams_before_and_each_is_computed_once(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = await make_services(sqlite_url)
    try:
        checked = check_file(EXAMPLE)
        assert checked.script is not None
        ids = [await create_stream(core.db, checked.script, EXAMPLE.read_text()) for _ in range(5)]
        monkeypatch.setattr(service, "HISTORY_STREAMS", 3, raising=False)
        computed: list[str] = []
        real = service.ReportInputs.compute

        def counting(self: service.ReportInputs) -> dict[str, Any]:
            computed.append(self.stream_id)
            return real(self)

        monkeypatch.setattr(service.ReportInputs, "compute", counting)
        inputs = await service.report_inputs(core, ids[4])
        assert list(inputs.history_ids) == ids[:4]  # every stream before it, in order
        await service.stream_report(core, ids[4])
        assert sorted(computed) == sorted(ids[1:5])  # the three before it, and itself
        computed.clear()
        await service.stream_report(core, ids[4])
        assert computed == [ids[4]]  # the history's figures from the cache: nothing changed
    finally:
        await core.hub.close()
        await core.db.dispose()
