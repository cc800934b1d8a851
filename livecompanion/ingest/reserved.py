"""What only the service writes into a stream's log is refused at ingest: `alert` events, and any
event whose `id` is in the alerts' namespace (`alert:...`).

Alerts are computed by the service (livecompanion/alerts) and kept in the log as `alert` events
with `event_id` `alert:<key>`; the log's unique (stream, event_id) is what raises each one once
across instances. Before this check an ingest token could post `{"type": "alert", ...}`: a forged
alert that the report marked as the service's, and, as any event holding the id `alert:gmv_pace`
(of whatever type), one that stopped the real alert from ever being raised. Each such event is
rejected on its own with its reason, like any malformed event; the rest of the batch is kept.
Checked where ingest builds its records (`rows.records_of_values`, which every way in goes through:
HTTP, the ingest socket, bridges and shops; SQLite and PostgreSQL alike), on the id the fast path
has already read. A separate pass over the batch first cost 300-400 ns an event (about 6% of the
records' own time); in the fast path the check is below the noise: records_of_values on 10,000
comments with ids after/before 1.17, 0.97, 0.95 in three alternating runs (median of 15 pairs
each, load average 8-9 on the shared machine).
"""

from __future__ import annotations

__all__ = ["ALERT_ID_PREFIX", "ALERT_TYPE_REASON", "reserved_id_reason"]

ALERT_ID_PREFIX = "alert:"  # livecompanion/alerts/repository.py event_id()
ALERT_TYPE_REASON = "type: 'alert' events are raised by the service (its alerts rules), never sent: refused at ingest"


def reserved_id_reason(event_id: str) -> str:
    return (f"id: '{event_id[:100]}' is reserved for the service's alerts (ids beginning "
            f"'{ALERT_ID_PREFIX}'): give the event another id")
