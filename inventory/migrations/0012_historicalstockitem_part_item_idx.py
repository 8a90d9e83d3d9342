"""Stock as of a date (inventory.selectors_as_of): each item's latest history row at a
moment, for the items of some parts, read from one index."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0011_part_flag_filter_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="historicalstockitem",
            index=models.Index(
                fields=["part", "id", "history_date", "history_id"],
                name="hist_stockitem_part_item_idx",
            ),
        ),
    ]
