"""Comment lotteries (評論「想要」抽免單): entry by keyword, a seeded draw anyone can re-run.

`draw` (the algorithm, pure), `rules` (who takes part, pure), `repository` (the record, on the
service's session), `service` (the units of work: create, enter, the once-only draw; screens, timer).
"""
