"""The live show: segments (next / previous / go to / end), pacing, cues, countdowns, pins.

Pure parts: `machine` (transitions), `document` (the show's sections of the live document),
`pacing`. Seams for other domains: `cues.CueRunners` and `sections.SectionLoaders`, held by
`Core` and filled by the composition root (`livecompanion/wiring.py`).
Service functions (record + hub): `service`.
"""
