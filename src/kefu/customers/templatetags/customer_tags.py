"""Template helpers of the archive pages: masked personal data (档案保密), custom-field
values, query strings."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from kefu.core.pii import mask_id_number, mask_phone
from kefu.customers.choices import FieldType

register = template.Library()


@register.filter
def masked_phone(value: str | None) -> str:
    """Pages always show a phone masked; the full number only comes through the audited
    reveal endpoint."""
    return mask_phone(value)


@register.filter
def masked_id(value: str | None) -> str:
    return mask_id_number(value)


@register.filter
def primary_contact(customer):
    """The primary contact loaded by `with_list_related` (no query)."""
    contacts = getattr(customer, "primary_contacts", None)
    return contacts[0] if contacts else None


@register.simple_tag
def extra_value(customer, field) -> str:
    """A custom field's stored value as a person reads it."""
    value = (customer.extra or {}).get(field.key)
    if value in (None, ""):
        return ""
    if field.field_type == FieldType.BOOLEAN:
        return _("是") if value is True else _("否")
    if field.field_type == FieldType.NUMBER and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@register.simple_tag(takes_context=True)
def query_without(context, *names: str) -> str:
    """The current query string without the given parameters (e.g. the cursor)."""
    query = context["request"].GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()
