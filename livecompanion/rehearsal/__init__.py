"""Rehearsal: a recorded stream played into a new stream of the service (`livecompanion rehearse`).

`pacing` (pure: when each event is sent and with which ts), `compare` (pure: the rehearsal's report
against the log's), `runner` (the HTTP/WS client and the command), `embedded` (the service in-process).
"""
