"""Factories for the organisation; each module adds its own next to these."""

import factory
from django.contrib.auth.models import Group

from kefu.core.models import Department, DepartmentKind, Region, User


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept-{n}")
    name = factory.Sequence(lambda n: f"部门{n}")
    kind = DepartmentKind.OTHER


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"region-{n}")
    name = factory.Sequence(lambda n: f"片区{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"员工{n}")
    password = factory.django.Password("Kefu-test-pass-1")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """`UserFactory(roles=["manager"])` puts the user in the seeded role groups."""
        if create and extracted:
            self.groups.add(*[Group.objects.get(name=code) for code in extracted])
