"""Bills of materials: which parts, in what quantity, make an assembly.

Same-row rules live in ``clean()``; rules that span rows (no recursion, locked
assemblies, trackability propagating upwards) live in ``builds.services.bom``.
"""

import hashlib
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

# The fields a BOM validation covers (R14): changing any of them un-validates the BOM.
BOM_KEY_FIELDS = (
    "sub_part",
    "quantity",
    "reference",
    "optional",
    "consumable",
    "inherited",
    "allow_variants",
)


def parse_overage(text) -> tuple[str, Decimal] | None:
    """``"7"`` → ("absolute", 7); ``"2%"`` → ("percent", 2); blank → None.

    Raises ValueError for anything else (negative numbers, words, "%" alone).
    """
    text = (text or "").strip()
    if not text:
        return None
    kind = "absolute"
    if text.endswith("%"):
        kind, text = "percent", text[:-1].strip()
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValueError(text) from None
    if not value.is_finite() or value < 0:
        raise ValueError(text)
    return kind, value


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
        return f"{Decimal(str(self.quantity)).normalize():f} × {self.sub_part.name} in {self.part.name}"

    def clean(self):
        super().clean()
        self.reference = (self.reference or "").strip()
        self.overage = (self.overage or "").strip()
        errors = {}
        part = self.part if self.part_id else None
        sub_part = self.sub_part if self.sub_part_id else None
        if part is not None and not part.assembly:
            errors["part"] = f"'{part}' is not an assembly, so it cannot have a BOM."
        if sub_part is not None:
            if not sub_part.component:
                errors["sub_part"] = (
                    f"'{sub_part}' is not a component, so it cannot be used in a BOM."
                )
            elif part is not None and sub_part.pk == part.pk:
                errors["sub_part"] = f"'{part}' cannot be used in its own BOM."
        if self.quantity is not None:
            if self.quantity <= 0:
                errors["quantity"] = "Quantity must be greater than zero."
            elif sub_part is not None and sub_part.trackable and self.quantity % 1:
                errors["quantity"] = (
                    f"'{sub_part}' is trackable: the quantity must be a whole number."
                )
        try:
            overage = parse_overage(self.overage)
        except ValueError:
            errors["overage"] = (
                f"'{self.overage}' is not an overage: use a quantity (e.g. 2) or a "
                "percentage (e.g. 5%)."
            )
        else:
            if overage and overage[0] == "percent" and overage[1] > 100:
                errors["overage"] = "A percentage overage can be at most 100%."
        if errors:
            raise ValidationError(errors)

    def line_hash(self) -> str:
        """MD5 over the line's key fields (R14); the BOM checksum combines these."""
        values = [
            self.part_id,
            self.sub_part_id,
            f"{Decimal(self.quantity).normalize():f}",
            (self.reference or "").strip(),
            self.optional,
            self.inherited,
            self.consumable,
            self.allow_variants,
        ]
        return hashlib.md5("|".join(str(v) for v in values).encode()).hexdigest()

    def key_values(self) -> tuple:
        """The key fields' values, to tell whether an edit un-validates the line."""
        return tuple(
            getattr(self, f"{name}_id" if name == "sub_part" else name) for name in BOM_KEY_FIELDS
        )


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

    def clean(self):
        super().clean()
        if not (self.bom_item_id and self.part_id):
            return
        if self.part_id == self.bom_item.sub_part_id:
            raise ValidationError(
                {"part": f"'{self.part}' is this line's own component: choose a different part."}
            )
        if not self.part.component:
            raise ValidationError(
                {"part": f"'{self.part}' is not a component, so it cannot be a substitute."}
            )
