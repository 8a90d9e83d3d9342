"""Sales orders: lines, shipments and stock allocations."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from orders.choices import SALES_OPEN, SalesOrderStatus
from orders.models.common import Order


class SalesOrder(Order):
    """An order from a customer."""

    customer = models.ForeignKey(
        "orders.Company",
        verbose_name="customer",
        on_delete=models.PROTECT,
        related_name="sales_orders",
        limit_choices_to={"is_customer": True},
    )
    status = models.PositiveSmallIntegerField(
        "status", choices=SalesOrderStatus.choices, default=SalesOrderStatus.PENDING, db_index=True
    )
    shipment_date = models.DateField("shipped on", null=True, blank=True)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="shipped by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    OPEN_STATUSES = SALES_OPEN
    REFERENCE_SETTING = "SALES_ORDER_REFERENCE_PATTERN"

    class Meta(Order.Meta):
        verbose_name = "sales order"
        indexes = [models.Index(fields=["customer", "status"], name="so_customer_status_idx")]
        permissions = [
            ("issue_salesorder", "Can issue, hold, cancel and complete sales orders"),
            ("ship_salesorder", "Can allocate stock and ship sales orders"),
        ]

    @property
    def company(self):
        return self.customer

    @property
    def company_id(self):
        return self.customer_id

    def clean(self):
        super().clean()
        if self.customer_id and not self.customer.is_customer:
            raise ValidationError(
                {"customer": f"{self.customer.name} is not marked as a customer."}
            )


class SalesOrderLine(models.Model):
    """A quantity of one part sold on a sales order."""

    order = models.ForeignKey(
        SalesOrder, verbose_name="order", on_delete=models.CASCADE, related_name="lines"
    )
    part = models.ForeignKey(
        "inventory.Part",
        verbose_name="part",
        on_delete=models.PROTECT,
        related_name="sales_order_lines",
        limit_choices_to={"salable": True, "virtual": False},
    )
    quantity = models.DecimalField("quantity", max_digits=15, decimal_places=5)
    unit_price = models.DecimalField(
        "unit price", max_digits=19, decimal_places=6, null=True, blank=True
    )
    shipped = models.DecimalField(
        "shipped", max_digits=15, decimal_places=5, default=Decimal(0), editable=False
    )
    reference = models.CharField("reference", max_length=100, blank=True)
    notes = models.CharField("notes", max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = "sales order line"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="soline_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.quantity.normalize():f} × {self.part.name}"

    def clean(self):
        super().clean()
        if self.part_id and (not self.part.salable or self.part.virtual):
            raise ValidationError({"part": f"'{self.part}' is not a salable physical part."})


class SalesOrderExtraLine(models.Model):
    """A charge on a sales order that is not a part (shipping, discount)."""

    order = models.ForeignKey(
        SalesOrder, verbose_name="order", on_delete=models.CASCADE, related_name="extra_lines"
    )
    description = models.CharField("description", max_length=250)
    quantity = models.DecimalField("quantity", max_digits=15, decimal_places=5, default=1)
    price = models.DecimalField("unit price", max_digits=19, decimal_places=6, default=0)
    reference = models.CharField("reference", max_length=100, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = "sales order extra line"

    def __str__(self):
        return self.description


class SalesOrderShipment(models.Model):
    """A parcel sent to the customer; allocations are assigned to it and shipped together."""

    order = models.ForeignKey(
        SalesOrder, verbose_name="order", on_delete=models.CASCADE, related_name="shipments"
    )
    reference = models.CharField("shipment", max_length=100, default="1")
    shipment_date = models.DateField("shipped on", null=True, blank=True)
    tracking_number = models.CharField("tracking number", max_length=100, blank=True)
    invoice_number = models.CharField("invoice number", max_length=100, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="checked by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    notes = models.TextField("notes", blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "reference"]
        verbose_name = "sales order shipment"
        constraints = [
            models.UniqueConstraint(
                fields=["order", "reference"],
                name="shipment_unique_reference_per_order",
                violation_error_message="This order already has a shipment with this reference.",
            ),
        ]

    def __str__(self):
        return f"{self.order.reference} / {self.reference}"

    @property
    def is_shipped(self) -> bool:
        return self.shipment_date is not None


class SalesOrderAllocation(models.Model):
    """Stock set aside for a sales order line (and optionally a shipment)."""

    line = models.ForeignKey(
        SalesOrderLine, verbose_name="line", on_delete=models.CASCADE, related_name="allocations"
    )
    shipment = models.ForeignKey(
        SalesOrderShipment,
        verbose_name="shipment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="allocations",
    )
    item = models.ForeignKey(
        "inventory.StockItem",
        verbose_name="stock item",
        on_delete=models.CASCADE,
        related_name="sales_allocations",
    )
    quantity = models.DecimalField("quantity", max_digits=15, decimal_places=5)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "sales order allocation"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="soallocation_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.quantity.normalize():f} of {self.item} → {self.line.order.reference}"
