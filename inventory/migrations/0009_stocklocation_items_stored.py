from django.db import migrations, models


def fill_items_stored(apps, schema_editor):
    """Initialise the maintained counter from the stock as it is (inventory.figures)."""
    from inventory.figures import refresh_location_counts

    refresh_location_counts()


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0008_part_sort_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="stocklocation",
            name="items_stored",
            field=models.PositiveIntegerField(
                default=0,
                editable=False,
                help_text="Stock items stored directly in this location (kept up to date by the stock services).",
                verbose_name="items stored here",
            ),
        ),
        migrations.RunPython(fill_items_stored, migrations.RunPython.noop),
    ]
