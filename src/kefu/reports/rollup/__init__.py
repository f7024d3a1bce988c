"""Rollups: counters that database triggers keep beside the big tables, so dashboards
read a few thousand summed rows instead of scanning a million tickets.

- `schema` — the counters of one ticket row as SQL, and the triggers (SQLite and
  PostgreSQL) that add them, with a sign, to `reports_ticketrollup` on every insert,
  update of a counted column and delete. A trigger runs in the writing transaction, so a
  rolled-back ticket leaves no counter, and every write path counts — services, bulk
  `UPDATE`s of the supervision job, the admin, raw SQL.
- `maintain` — install the triggers and rebuild the counters from the tickets (the
  migration, `kefu rollups --rebuild`), fold each key's delta rows into one (the
  periodic job), and check the counters against the tickets (`kefu rollups --check`).
- `tickets` — the ticket figures computed from the counters, for the questions they
  can answer exactly: whole months, a viewer who sees every ticket, grouped or filtered
  by kind, category, responsible department, region and month, without percentiles.
"""
