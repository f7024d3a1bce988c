"""The ticket counters gain the complaint statistics' two other dimensions, channel and
severity: the triggers are installed again and every ticket counted again."""

from django.db import migrations, models

from kefu.reports.rollup.migration import install_step, uninstall_step


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_customer_rollup"),
    ]

    operations = [
        # The old triggers write rows without the new columns: gone before the columns
        # come, back (with every ticket counted again) after.
        migrations.RunPython(uninstall_step("tickets"), migrations.RunPython.noop),
        migrations.AddField(
            model_name="ticketrollup",
            name="channel",
            field=models.CharField(default="", max_length=16),
        ),
        migrations.AddField(
            model_name="ticketrollup",
            name="severity",
            field=models.CharField(default="", max_length=16),
        ),
        migrations.RunPython(install_step("tickets"), uninstall_step("tickets")),
    ]
