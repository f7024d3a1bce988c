"""Pages of the customer archive: the list with bulk actions (`archive`), the detail
page with its forms, reveals and timeline (`detail`), create and edit (`edit`)."""
