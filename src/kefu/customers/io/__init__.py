"""Excel/CSV import and Excel export of the customer archive. `columns` defines the one
file layout both directions share, so an exported file can be imported again."""
