"""Flash sales (限時秒殺): claims that never oversell, on one process or many.

`rules` (the claim rules, pure), `store_sql` / `store_redis` + `lua/` (the two atomic stores),
`drain` + `drain_write` (Redis log -> record), `repository` (the record, on the service's session),
`views` (the screen, API and report shapes, pure), `service` (screen pushes: realtime/coalesce.py).
"""
