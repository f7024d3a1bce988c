from kefu.customers.models.config import (
    ArchiveNumbering,
    CreditGrade,
    CustomerClass,
    CustomerSource,
    CustomField,
    ProductCategory,
    Tag,
)
from kefu.customers.models.customer import Contact, Customer
from kefu.customers.models.history import ArchiveLoan, ClassChange, CreditChange, PointsEntry, TimelineEntry
from kefu.customers.models.imports import ImportJob

__all__ = [
    "ArchiveLoan",
    "ArchiveNumbering",
    "ClassChange",
    "Contact",
    "CreditChange",
    "CreditGrade",
    "CustomField",
    "Customer",
    "CustomerClass",
    "CustomerSource",
    "ImportJob",
    "PointsEntry",
    "ProductCategory",
    "Tag",
    "TimelineEntry",
]
