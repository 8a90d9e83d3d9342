"""Bills of materials: which parts, in what quantity, make an assembly."""

from decimal import Decimal

from django.db import models
from simple_history.models import HistoricalRecords


class BomItem(models.Model):
    """One line of an assembly's bill of materials."""

    part = models.ForeignKey(
        "inventory.Part",
        verbose_name="assembly",
        on_delete=models.CASCADE,
        related_name="bom_items",
        limit_choices_to={"assembly": True},
    )
    sub_part = models.ForeignKey(
        "inventory.Part",
        verbose_name="component",
        on_delete=models.PROTECT,
        related_name="used_in",
        limit_choices_to={"component": True},
    )
    quantity = models.DecimalField(
        "quantity", max_digits=15, decimal_places=5, default=Decimal(1), help_text="Per assembly."
    )
    reference = models.TextField(
        "references", blank=True, help_text="Reference designators, e.g. R1, R2, R5-R9."
    )
    overage = models.CharField(
        "overage",
        max_length=24,
        blank=True,
        help_text="Extra per build: an absolute quantity (e.g. 2) or a percentage (e.g. 5%).",
    )
    optional = models.BooleanField("optional", default=False)
    consumable = models.BooleanField(
        "consumable", default=False, help_text="Not tracked in builds (glue, solder...)."
    )
    allow_variants = models.BooleanField(
        "allow variants", default=False, help_text="Stock of the component's variants may be used."
    )
    inherited = models.BooleanField(
        "inherited",
        default=False,
        help_text="Also applies to variants of this (template) assembly.",
    )
    note = models.CharField("note", max_length=500, blank=True)
    validated = models.BooleanField("validated", default=False, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["part", "sub_part__name", "pk"]
        verbose_name = "BOM item"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="bomitem_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.quantity.normalize():f} × {self.sub_part.name} in {self.part.name}"


class BomItemSubstitute(models.Model):
    """A part that may be used instead of a BOM line's component."""

    bom_item = models.ForeignKey(
        BomItem, verbose_name="BOM item", on_delete=models.CASCADE, related_name="substitutes"
    )
    part = models.ForeignKey(
        "inventory.Part",
        verbose_name="substitute",
        on_delete=models.CASCADE,
        related_name="substitute_for",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "BOM substitute"
        constraints = [
            models.UniqueConstraint(
                fields=["bom_item", "part"],
                name="bomsubstitute_unique_line_part",
                violation_error_message="This part is already a substitute for this BOM line.",
            ),
        ]

    def __str__(self):
        return f"{self.part.name} for {self.bom_item.sub_part.name}"
