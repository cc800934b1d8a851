"""Comment lotteries (評論「想要」抽免單): entry by keyword, a seeded draw anyone can re-run.

`draw` (the algorithm, pure), `records` (entry and the once-only draw in the record), `service`.
"""
