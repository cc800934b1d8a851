"""What only the service writes into a stream's log is refused at ingest: `alert` events, and any
event whose `id` is in the alerts' namespace (`alert:...`).

Alerts are computed by the service (livecompanion/alerts) and kept in the log as `alert` events
with `event_id` `alert:<key>`; the log's unique (stream, event_id) is what raises each one once
across instances. Before this check an ingest token could post `{"type": "alert", ...}`: a forged
alert that the report marked as the service's, and, as any event holding the id `alert:gmv_pace`
(of whatever type), one that stopped the real alert from ever being raised. Each such event is
rejected on its own with its reason, like any malformed event; the rest of the batch is kept.
Checked on the decoded values, before the records are built, so HTTP, the ingest socket, bridges
and shops, SQLite and PostgreSQL all refuse alike.
"""

from __future__ import annotations

from typing import Any

from livecompanion.events import EventError

__all__ = ["ALERT_ID_PREFIX", "service_only"]

ALERT_ID_PREFIX = "alert:"  # livecompanion/alerts/repository.py event_id()


def service_only(values: list[tuple[int, Any]], errors: list[EventError]) -> list[tuple[int, Any]]:
    """`values` without the events only the service may write; each of those is added to `errors`
    with its index and reason."""
    prefix = ALERT_ID_PREFIX
    bad = [pos for pos, (_, raw) in enumerate(values) if type(raw) is dict and (
        raw.get("type") == "alert" or (type(eid := raw.get("id")) is str and eid.startswith(prefix)))]
    if not bad:
        return values  # the usual case: one pass, nothing copied
    for pos in bad:
        index, raw = values[pos]
        if raw.get("type") == "alert":
            reason = ("type: 'alert' events are raised by the service (its alerts rules), never sent: "
                      "refused at ingest")
        else:
            reason = (f"id: '{str(raw['id'])[:100]}' is reserved for the service's alerts "
                      f"(ids beginning '{prefix}'): give the event another id")
        errors.append(EventError(index, reason))
    dropped = set(bad)
    return [v for pos, v in enumerate(values) if pos not in dropped]
