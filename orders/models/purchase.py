"""Purchase orders: buying supplier parts and receiving them into stock."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from orders.choices import PURCHASE_OPEN, PurchaseOrderStatus
from orders.models.common import Order


class PurchaseOrder(Order):
    """An order to a supplier."""

    supplier = models.ForeignKey(
        "orders.Company",
        verbose_name="supplier",
        on_delete=models.PROTECT,
        related_name="purchase_orders",
        limit_choices_to={"is_supplier": True},
    )
    status = models.PositiveSmallIntegerField(
        "status",
        choices=PurchaseOrderStatus.choices,
        default=PurchaseOrderStatus.PENDING,
        db_index=True,
    )
    destination = models.ForeignKey(
        "inventory.StockLocation",
        verbose_name="receive into",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Default location for received stock.",
    )
    received_by = models.ForeignKey(
        "auth.User",
        verbose_name="received by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    OPEN_STATUSES = PURCHASE_OPEN
    REFERENCE_SETTING = "PURCHASE_ORDER_REFERENCE_PATTERN"

    class Meta(Order.Meta):
        verbose_name = "purchase order"
        indexes = [models.Index(fields=["supplier", "status"], name="po_supplier_status_idx")]
        permissions = [
            ("place_purchaseorder", "Can place, hold, cancel and complete purchase orders"),
            ("receive_purchaseorder", "Can receive stock against purchase orders"),
        ]

    @property
    def company(self):
        return self.supplier

    @property
    def company_id(self):
        return self.supplier_id

    def clean(self):
        super().clean()
        if self.supplier_id and not self.supplier.is_supplier:
            raise ValidationError(
                {"supplier": f"{self.supplier.name} is not marked as a supplier."}
            )


class PurchaseOrderLine(models.Model):
    """A quantity of one supplier part on a purchase order (in packs)."""

    order = models.ForeignKey(
        PurchaseOrder, verbose_name="order", on_delete=models.CASCADE, related_name="lines"
    )
    supplier_part = models.ForeignKey(
        "orders.SupplierPart",
        verbose_name="supplier part",
        on_delete=models.PROTECT,
        related_name="order_lines",
    )
    quantity = models.DecimalField(
        "quantity", max_digits=15, decimal_places=5, help_text="In packs."
    )
    received = models.DecimalField(
        "received", max_digits=15, decimal_places=5, default=Decimal(0), editable=False
    )
    unit_price = models.DecimalField(
        "unit price",
        max_digits=19,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="Price per pack.",
    )
    destination = models.ForeignKey(
        "inventory.StockLocation",
        verbose_name="receive into",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reference = models.CharField("reference", max_length=100, blank=True)
    notes = models.CharField("notes", max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = "purchase order line"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="poline_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(received__gte=0), name="poline_received_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.quantity.normalize():f} × {self.supplier_part}"

    @property
    def outstanding(self) -> Decimal:
        return max(self.quantity - self.received, Decimal(0))

    def clean(self):
        super().clean()
        if (
            self.order_id
            and self.supplier_part_id
            and self.supplier_part.supplier_id != self.order.supplier_id
        ):
            raise ValidationError(
                {
                    "supplier_part": f"{self.supplier_part} is sold by {self.supplier_part.supplier.name}, "
                    f"not by this order's supplier {self.order.supplier.name}."
                }
            )


class PurchaseOrderExtraLine(models.Model):
    """A charge on a purchase order that is not a part (shipping, fees); price may be negative."""

    order = models.ForeignKey(
        PurchaseOrder, verbose_name="order", on_delete=models.CASCADE, related_name="extra_lines"
    )
    description = models.CharField("description", max_length=250)
    quantity = models.DecimalField("quantity", max_digits=15, decimal_places=5, default=1)
    price = models.DecimalField("unit price", max_digits=19, decimal_places=6, default=0)
    reference = models.CharField("reference", max_length=100, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = "purchase order extra line"

    def __str__(self):
        return self.description
