"""Flash sales (限時秒殺): claims that never oversell, on one process or many.

`rules` (the claim rules, pure), `store_sql` / `store_redis` + `lua/` (the two atomic stores),
`drain` (Redis log -> record), `coalesce` (screen pushes), `records` (the record), `service`.
"""
