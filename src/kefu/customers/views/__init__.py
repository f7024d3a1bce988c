"""Pages of the customer archive: the list with bulk actions (`archive`), the detail
page with its forms, reveals and timeline (`detail`), its contact buttons (`contacts`),
merging archives (`merge`), create and edit (`edit`)."""
