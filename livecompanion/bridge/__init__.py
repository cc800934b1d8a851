"""Runnable platform bridges: `livecompanion bridge PLATFORM ...` (contract section 3).

`runner` maps and pushes, `pusher` talks to the service, `backlog` keeps what is not acknowledged
(on disk when needed), `sources/` connect to each platform, `cli` is the command.
"""
