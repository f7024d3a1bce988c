"""Rebuild `search_text` so existing archives carry the 1–2 character tokens that
short searches now use (see kefu.customers.search)."""

from collections import defaultdict

from django.db import migrations


def rebuild(apps, schema_editor):
    from kefu.customers.search import build_search_text

    Customer = apps.get_model("customers", "Customer")
    Contact = apps.get_model("customers", "Contact")
    last = 0
    while True:
        batch = list(Customer.objects.filter(pk__gt=last).order_by("pk")[:2000])
        if not batch:
            return
        ids = [c.pk for c in batch]
        phones = defaultdict(list)
        for customer_id, phone in Contact.objects.filter(customer_id__in=ids).values_list("customer_id", "phone"):
            phones[customer_id].append(phone)
        former = defaultdict(list)
        for target, number in Customer.objects.filter(merged_into_id__in=ids).values_list(
            "merged_into_id", "archive_no"
        ):
            former[target].append(number)
        for customer in batch:
            customer.search_text = build_search_text(
                name=customer.name,
                person=customer.kind == "person",
                archive_no=customer.archive_no,
                phones=phones[customer.pk],
                former_numbers=former[customer.pk],
            )
        Customer.objects.bulk_update(batch, ["search_text"])
        last = ids[-1]


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_search_and_numbering")]
    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
