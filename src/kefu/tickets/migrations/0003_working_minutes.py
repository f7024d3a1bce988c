from django.db import migrations, models


def backfill(apps, schema_editor):
    """Tickets answered or resolved before the columns existed get their durations."""
    from kefu.core.workcal import WorkingCalendar

    Ticket = apps.get_model("tickets", "Ticket")
    calendar = WorkingCalendar()
    rows = Ticket.objects.exclude(first_response_at=None, resolved_at=None).only(
        "created_at", "first_response_at", "resolved_at"
    )
    for ticket in rows.iterator(chunk_size=2000):
        if ticket.first_response_at:
            ticket.response_minutes = calendar.working_minutes_between(ticket.created_at, ticket.first_response_at)
        if ticket.resolved_at:
            ticket.resolution_minutes = calendar.working_minutes_between(ticket.created_at, ticket.resolved_at)
        ticket.save(update_fields=["response_minutes", "resolution_minutes"])


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0002_region_scope_permission"),
        ("core", "0004_idempotency"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="resolution_minutes",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="处理用时（工作分钟）"),
        ),
        migrations.AddField(
            model_name="ticket",
            name="response_minutes",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="首次响应用时（工作分钟）"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
