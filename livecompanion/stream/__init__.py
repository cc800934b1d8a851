"""The live show: segments (next / previous / go to / end), pacing, cues, countdowns, pins.

Pure parts: `machine` (transitions), `document` (the show's sections of the live document),
`pacing`. Seams for other domains: `cues.register_cue_runner`, `sections.register_section_loader`.
Service functions (record + hub): `service`.
"""
