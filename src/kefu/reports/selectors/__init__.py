"""The figures of the reports and dashboards, by subject (tickets, visits, customers,
staff, completed customers). Every function starts from the scoped base selector of its
subject, so a figure covers only what the viewer may see, and returns plain JSON-ready
dicts computed with a few GROUP BY queries whatever the number of rows."""
