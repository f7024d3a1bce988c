"""Factories and helpers for the customer archive."""

import factory

from kefu.customers.models import CreditGrade, CustomerClass, CustomerSource, ProductCategory
from kefu.customers.services.customers import ContactInput, CustomerInput, customer_create


class CustomerClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerClass
        django_get_or_create = ("code",)

    code = factory.Iterator(["A", "B", "C"])
    name = factory.LazyAttribute(lambda o: f"{o.code}类")
    visits_per_month = 1


class CreditGradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditGrade
        django_get_or_create = ("code",)

    code = factory.Iterator(["AAA", "AA", "A", "B"])
    name = factory.LazyAttribute(lambda o: o.code)


class CustomerSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerSource
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"src-{n}")
    name = factory.Sequence(lambda n: f"来源{n}")


class ProductCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductCategory
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cat-{n}")
    name = factory.Sequence(lambda n: f"类别{n}")


def make_customer(actor, name="张三", phone="13812345678", **fields):
    """A customer created through the service (numbered, searchable, audited)."""
    contacts = fields.pop("contacts", None)
    if contacts is None:
        contacts = [ContactInput(name=name, phone=phone)] if phone else []
    allow_duplicate = fields.pop("allow_duplicate", True)
    return customer_create(
        actor=actor, data=CustomerInput(name=name, contacts=contacts, **fields), allow_duplicate=allow_duplicate
    )
