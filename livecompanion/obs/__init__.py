"""OBS Studio follows the show: scenes switch with the segments (issue 16).

    mapping.py     pure: which scene a show move asks for (from the script's `obs:` section)
    client.py      the one place that imports the OBS client (extra `livecompanion[obs]`)
    link.py        one stream's connection to OBS: reconnects with backoff, never blocks the show
    lease.py       which instance talks to OBS when several run (a Redis lease)
    service.py     the service: listener for show moves, workers per stream, the `obs` section
"""
