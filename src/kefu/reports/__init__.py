"""Reports and dashboards: period statistics, the named reports the seeds ask for,
role dashboards and scheduled delivery — all over the same scoped selectors."""
