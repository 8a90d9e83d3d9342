"""Build orders: making assemblies from stock, following the BOM."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from builds.choices import ACTIVE_BUILD_STATUSES, BuildStatus


class BuildOrderQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=ACTIVE_BUILD_STATUSES)

    def overdue(self, today=None):
        """Active builds whose target date is today or earlier (InvenTree's rule for builds)."""
        return self.active().filter(target_date__lte=today or timezone.localdate())


class BuildOrder(models.Model):
    """An order to build a quantity of an assembly."""

    reference = models.CharField("reference", max_length=64, unique=True)
    reference_int = models.PositiveIntegerField(
        "reference number", default=0, db_index=True, editable=False
    )
    part = models.ForeignKey(
        "inventory.Part",
        verbose_name="part",
        on_delete=models.PROTECT,
        related_name="builds",
        limit_choices_to={"assembly": True},
    )
    title = models.CharField("title", max_length=100, blank=True)
    quantity = models.PositiveIntegerField(
        "quantity", default=1, help_text="How many assemblies to build."
    )
    completed = models.PositiveIntegerField("completed", default=0, editable=False)
    status = models.PositiveSmallIntegerField(
        "status", choices=BuildStatus.choices, default=BuildStatus.PENDING, db_index=True
    )
    take_from = models.ForeignKey(
        "inventory.StockLocation",
        verbose_name="source location",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Take stock from this location and its sub-locations only (empty: anywhere).",
    )
    destination = models.ForeignKey(
        "inventory.StockLocation",
        verbose_name="destination",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where completed outputs go.",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="parent build",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
    )
    sales_order = models.ForeignKey(
        "orders.SalesOrder",
        verbose_name="sales order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="builds",
        help_text="The sales order this build is for.",
    )
    batch = models.CharField("batch code", max_length=100, blank=True)
    target_date = models.DateField("target date", null=True, blank=True, db_index=True)
    created_at = models.DateTimeField("created", auto_now_add=True)
    completed_at = models.DateTimeField("completed on", null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="completed by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="issued by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    responsible_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="responsible user",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="responsible_builds",
    )
    responsible_group = models.ForeignKey(
        Group,
        verbose_name="responsible group",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="responsible_builds",
    )
    notes = models.TextField("notes", blank=True)

    objects = BuildOrderQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-reference_int"]
        verbose_name = "build order"
        indexes = [models.Index(fields=["part", "status"], name="build_part_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="build_quantity_positive"
            ),
        ]
        permissions = [
            ("issue_buildorder", "Can issue, hold and cancel build orders"),
            ("complete_buildorder", "Can complete build outputs and build orders"),
            ("allocate_buildorder", "Can allocate stock to build orders"),
        ]

    def __str__(self):
        return f"{self.reference} – {self.quantity} × {self.part.name}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_BUILD_STATUSES

    @property
    def is_overdue(self) -> bool:
        return bool(
            self.is_active and self.target_date and self.target_date <= timezone.localdate()
        )

    @property
    def remaining(self) -> int:
        return max(self.quantity - self.completed, 0)


class BuildLine(models.Model):
    """What one BOM line requires for this build (quantity includes overage)."""

    build = models.ForeignKey(
        BuildOrder, verbose_name="build", on_delete=models.CASCADE, related_name="lines"
    )
    bom_item = models.ForeignKey(
        "builds.BomItem",
        verbose_name="BOM item",
        on_delete=models.CASCADE,
        related_name="build_lines",
    )
    quantity = models.DecimalField("required", max_digits=15, decimal_places=5, default=Decimal(0))
    consumed = models.DecimalField("consumed", max_digits=15, decimal_places=5, default=Decimal(0))

    history = HistoricalRecords()

    class Meta:
        ordering = ["build", "bom_item__sub_part__name", "pk"]
        verbose_name = "build line"
        constraints = [
            models.UniqueConstraint(
                fields=["build", "bom_item"], name="buildline_unique_build_bomitem"
            ),
        ]

    def __str__(self):
        return (
            f"{self.build.reference}: {self.quantity.normalize():f} × {self.bom_item.sub_part.name}"
        )


class BuildItem(models.Model):
    """An allocation of (part of) a stock item to a build line."""

    build_line = models.ForeignKey(
        BuildLine, verbose_name="build line", on_delete=models.CASCADE, related_name="allocations"
    )
    stock_item = models.ForeignKey(
        "inventory.StockItem",
        verbose_name="stock item",
        on_delete=models.CASCADE,
        related_name="build_allocations",
    )
    quantity = models.DecimalField("quantity", max_digits=15, decimal_places=5)
    install_into = models.ForeignKey(
        "inventory.StockItem",
        verbose_name="build output",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="output_allocations",
        help_text="For trackable components: the output they will be installed in.",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "build allocation"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="builditem_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["build_line", "stock_item", "install_into"],
                name="builditem_unique_line_item_output",
            ),
        ]

    def __str__(self):
        return f"{self.quantity.normalize():f} of {self.stock_item} → {self.build_line.build.reference}"
