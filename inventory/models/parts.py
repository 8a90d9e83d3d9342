"""Parts: categories, parts, parameter templates and parameter values."""

import math
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from inventory.models.tree import TreeNode

TREE_HISTORY_EXCLUDED = ["pathstring", "tree_path", "level"]


class PartCategory(TreeNode):
    """A node in the part classification tree ("Electronics/Passives/Resistors")."""

    default_location = models.ForeignKey(
        "inventory.StockLocation",
        verbose_name="default location",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where stock of parts in this category goes unless the part says otherwise.",
    )
    default_keywords = models.CharField(
        "default keywords",
        max_length=250,
        blank=True,
        help_text="Keywords new parts in this category start with.",
    )

    history = HistoricalRecords(excluded_fields=TREE_HISTORY_EXCLUDED)

    class Meta(TreeNode.Meta):
        verbose_name = "part category"
        verbose_name_plural = "part categories"
        constraints = TreeNode.tree_constraints("partcategory")

    structural_conflict_message = (
        "Cannot be made structural while parts are assigned to it directly."
    )

    def has_direct_members(self) -> bool:
        return self.parts.exists()

    def get_default_location(self):
        """This category's default location, else the nearest ancestor's (one query), else None."""
        if self.default_location_id:
            return self.default_location
        ids = [int(i) for i in (self.tree_path or "").strip("/").split("/")[:-1] if i]
        if not ids:
            return None
        nearest = (
            PartCategory.objects.filter(pk__in=ids, default_location__isnull=False)
            .select_related("default_location")
            .order_by("-level")
            .first()
        )
        return nearest.default_location if nearest else None


# the part list's yes/no filters (inventory/admin/parts.py), each with a partial index
PART_FLAG_FILTERS = (
    "assembly",
    "component",
    "trackable",
    "purchaseable",
    "salable",
    "virtual",
    "is_template",
    "locked",
)


class Part(models.Model):
    """An abstract part: what something is, not a physical quantity of it (that is a StockItem)."""

    name = models.CharField("name", max_length=100, db_index=True)
    ipn = models.CharField(
        "IPN",
        max_length=100,
        blank=True,
        help_text="Internal part number; unique (ignoring case) when set.",
    )
    description = models.CharField("description", max_length=250, blank=True)
    keywords = models.CharField(
        "keywords", max_length=250, blank=True, help_text="Extra words to find the part by."
    )
    revision = models.CharField("revision", max_length=100, blank=True)
    revision_of = models.ForeignKey(
        "self",
        verbose_name="revision of",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="revisions",
    )
    category = models.ForeignKey(
        PartCategory,
        verbose_name="category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parts",
    )
    is_template = models.BooleanField(
        "template", default=False, help_text="Templates may have variants."
    )
    variant_of = models.ForeignKey(
        "self",
        verbose_name="variant of",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="variants",
        limit_choices_to={"is_template": True},
        help_text="The template part this part is a variant of.",
    )
    units = models.CharField(
        "units", max_length=20, blank=True, help_text="Unit of measure, e.g. m, kg, pcs."
    )
    minimum_stock = models.DecimalField(
        "minimum stock",
        max_digits=15,
        decimal_places=5,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
        help_text="Below this quantity in stock the part shows as low stock.",
    )
    default_location = models.ForeignKey(
        "inventory.StockLocation",
        verbose_name="default location",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    default_expiry = models.PositiveIntegerField(
        "default expiry (days)",
        default=0,
        help_text="New stock expires after this many days (0: never).",
    )
    assembly = models.BooleanField(
        "assembly", default=False, help_text="Can be built from other parts."
    )
    component = models.BooleanField(
        "component", default=True, help_text="Can be used to build other parts."
    )
    trackable = models.BooleanField(
        "trackable", default=False, help_text="Stock is tracked by serial number."
    )
    purchaseable = models.BooleanField("purchaseable", default=True)
    salable = models.BooleanField("salable", default=False)
    virtual = models.BooleanField(
        "virtual", default=False, help_text="Not a physical thing (e.g. a licence); holds no stock."
    )
    active = models.BooleanField("active", default=True, db_index=True)
    locked = models.BooleanField(
        "locked", default=False, help_text="Locked parts cannot have parameters or BOM edited."
    )
    bom_checksum = models.CharField("BOM checksum", max_length=128, blank=True, editable=False)
    bom_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="BOM validated by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    bom_checked_date = models.DateTimeField(
        "BOM validated on", null=True, blank=True, editable=False
    )
    notes = models.TextField("notes", blank=True)
    link = models.URLField("link", blank=True)
    created_at = models.DateTimeField("created", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="created by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Maintained figure (docs/decisions.md "Figures on big lists"): Σ quantity of the part's
    # in-stock items, recomputed by inventory.figures whenever one of its items is saved or
    # deleted, so lists filter and sort by it without summing a million rows.
    in_stock_total = models.DecimalField(
        "in stock",
        max_digits=20,
        decimal_places=5,
        default=Decimal(0),
        editable=False,
        help_text="Quantity of the part's in-stock items (kept up to date by the stock services).",
    )

    history = HistoricalRecords(excluded_fields=["in_stock_total"])

    class Meta:
        ordering = ["name", "revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "ipn", "revision"],
                name="part_unique_name_ipn_revision",
                violation_error_message="A part with this name, IPN and revision already exists.",
            ),
            models.UniqueConstraint(
                Lower("ipn"),
                condition=~models.Q(ipn=""),
                name="part_unique_ipn_ci",
                violation_error_message="Another part already uses this IPN.",
            ),
            models.CheckConstraint(
                condition=models.Q(minimum_stock__gte=0), name="part_minimum_stock_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["ipn"], name="part_ipn_idx"),
            models.Index(fields=["category", "active"], name="part_category_active_idx"),
            models.Index(fields=["in_stock_total", "-id"], name="part_in_stock_idx"),
            # the part list's ordering (PartAdmin.ordering), so a filtered page walks it
            models.Index(fields=["name", "revision", "id"], name="part_list_order_idx"),
            # the part list's other sortable columns, with the changelist's "-pk" tie-breaker
            models.Index(fields=["revision", "-id"], name="part_revision_sort_idx"),
            models.Index(fields=["active", "-id"], name="part_active_sort_idx"),
            # case-insensitive prefix search of names and IPNs (autocomplete)
            models.Index(Lower("name"), name="part_name_lower_idx"),
            models.Index(Lower("ipn"), name="part_ipn_lower_idx"),
            # each yes/no filter of the part list, in the list's order: a page of the few
            # virtual (template, locked, ...) parts is read from a small partial index instead
            # of walking part_list_order_idx through every part
            *(
                models.Index(
                    fields=["name", "revision", "id"],
                    condition=models.Q(**{flag: True}),
                    name=f"part_list_{flag.replace('is_', '')}_idx",
                )
                for flag in PART_FLAG_FILTERS
            ),
        ]

    def __str__(self):
        parts = [self.ipn, self.name, self.revision]
        return " | ".join(p for p in parts if p)

    def clean(self):
        super().clean()
        self.ipn = (self.ipn or "").strip()
        errors = {}
        if self.category_id and self.category.structural:
            errors["category"] = (
                f"Category '{self.category}' is structural: choose one of its sub-categories."
            )
        if self.variant_of_id:
            if self.variant_of_id == self.pk:
                errors["variant_of"] = "A part cannot be a variant of itself."
            elif not self.variant_of.is_template:
                errors["variant_of"] = (
                    f"'{self.variant_of}' is not a template part, so it cannot have variants."
                )
            elif self.pk and self._variant_loop():
                errors["variant_of"] = (
                    f"'{self.variant_of}' is itself a variant of this part: that would make a loop."
                )
        if self.revision_of_id:
            root = self.revision_of
            if root.pk == self.pk:
                errors["revision_of"] = "A part cannot be a revision of itself."
            elif root.revision_of_id:
                errors["revision_of"] = f"'{root}' is itself a revision; choose the original part."
            elif self.pk and Part.objects.filter(revision_of=self.pk).exists():
                errors["revision_of"] = (
                    "This part has revisions of its own, so it cannot be a revision of another part."
                )
            elif root.is_template:
                errors["revision_of"] = "Template parts cannot have revisions."
            elif not self.revision:
                errors["revision"] = "A revision code is required for a revision of another part."
            elif root.variant_of_id != self.variant_of_id:
                errors["revision_of"] = (
                    "A revision must be a variant of the same template as the original."
                )
            elif (
                Part.objects.filter(revision_of=root, revision=self.revision)
                .exclude(pk=self.pk)
                .exists()
            ):
                errors["revision"] = f"Revision '{self.revision}' of '{root}' already exists."
        if self.virtual and self.trackable:
            errors["trackable"] = "Virtual parts hold no stock, so they cannot be trackable."
        if errors:
            raise ValidationError(errors)

    def _variant_loop(self) -> bool:
        """Whether following ``variant_of`` upwards from the chosen template comes back here."""
        seen, current = set(), self.variant_of_id
        while current is not None and current not in seen:
            if current == self.pk:
                return True
            seen.add(current)
            current = Part.objects.filter(pk=current).values_list("variant_of", flat=True).first()
        return False

    def get_default_location(self):
        """Where new stock of this part goes unless someone says otherwise: the part's default
        location, else its category's, else the nearest ancestor category's (as InvenTree's
        ``Part.get_default_location``). The one rule for builds, outputs and new stock."""
        if self.default_location_id:
            return self.default_location
        if self.category_id:
            return self.category.get_default_location()
        return None

    def variant_family(self):
        """Root template of this part's variant family (itself when it has none)."""
        root = self
        seen = {root.pk}
        while root.variant_of_id and root.variant_of_id not in seen:
            root = root.variant_of
            seen.add(root.pk)
        return root


class PartParameterTemplate(models.Model):
    """A named, optionally constrained attribute that parts can have (e.g. Resistance, Ω)."""

    name = models.CharField("name", max_length=100)
    units = models.CharField("units", max_length=25, blank=True)
    description = models.CharField("description", max_length=250, blank=True)
    checkbox = models.BooleanField("checkbox", default=False, help_text="Values are true/false.")
    choices = models.CharField(
        "choices",
        max_length=5000,
        blank=True,
        help_text="Comma-separated list of allowed values (empty: any value).",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = "part parameter template"
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="parametertemplate_unique_name_ci",
                violation_error_message="A parameter template with this name already exists.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.units})" if self.units else self.name

    def choice_list(self) -> list[str]:
        return [c.strip() for c in self.choices.split(",") if c.strip()]

    def clean(self):
        super().clean()
        errors = {}
        choices = self.choice_list()
        if len({c.lower() for c in choices}) != len(choices):
            errors["choices"] = "Choices must not repeat."
        if self.checkbox and (self.units or choices):
            errors["checkbox"] = "Checkbox parameters cannot have units or choices."
        if errors:
            raise ValidationError(errors)


# "1,000" and "12,345.5": commas only as thousands separators (so "4,7" is not read as 47)
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def parse_number(text: str) -> float | None:
    """The numeric value of a parameter, or None when it is not a finite number."""
    try:
        text = text.strip()
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        value = float(text)
    except (ValueError, AttributeError):
        return None
    return value if math.isfinite(value) else None


class PartParameter(models.Model):
    """One part's value for one parameter template."""

    part = models.ForeignKey(
        Part, verbose_name="part", on_delete=models.CASCADE, related_name="parameters"
    )
    template = models.ForeignKey(
        PartParameterTemplate,
        verbose_name="parameter",
        on_delete=models.PROTECT,
        related_name="values",
    )
    data = models.CharField("value", max_length=500)
    data_numeric = models.FloatField("numeric value", null=True, blank=True, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["template__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["part", "template"],
                name="partparameter_unique_part_template",
                violation_error_message="This part already has a value for this parameter.",
            ),
        ]
        indexes = [
            models.Index(fields=["template", "data_numeric"], name="partparameter_numeric_idx")
        ]

    def __str__(self):
        return f"{self.template.name} = {self.data}{(' ' + self.template.units) if self.template.units else ''}"

    def save(self, *args, **kwargs):
        self.data_numeric = parse_number(self.data)
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if self.part_id and self.part.locked:
            raise ValidationError(
                f"Part '{self.part}' is locked: its parameters cannot be changed."
            )
        if not self.template_id:
            return
        self.data = (self.data or "").strip()
        template = self.template
        if template.checkbox:
            lowered = self.data.lower()
            if lowered in {"1", "true", "yes", "y", "on"}:
                self.data = "True"
            elif lowered in {"0", "false", "no", "n", "off", ""}:
                self.data = "False"
            else:
                raise ValidationError({"data": f"'{self.data}' is not a true/false value."})
        choices = template.choice_list()
        if choices and self.data not in choices:
            raise ValidationError(
                {"data": f"'{self.data}' is not one of the allowed values: {', '.join(choices)}."}
            )
