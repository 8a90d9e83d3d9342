"""Return orders: stock coming back from customers (RMA)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from orders.choices import RETURN_OPEN, ReturnLineOutcome, ReturnOrderStatus
from orders.models.common import Order


class ReturnOrder(Order):
    """A customer's return authorisation."""

    customer = models.ForeignKey(
        "orders.Company",
        verbose_name="customer",
        on_delete=models.PROTECT,
        related_name="return_orders",
        limit_choices_to={"is_customer": True},
    )
    status = models.PositiveSmallIntegerField(
        "status",
        choices=ReturnOrderStatus.choices,
        default=ReturnOrderStatus.PENDING,
        db_index=True,
    )

    OPEN_STATUSES = RETURN_OPEN
    REFERENCE_SETTING = "RETURN_ORDER_REFERENCE_PATTERN"

    class Meta(Order.Meta):
        verbose_name = "return order"
        indexes = [models.Index(fields=["customer", "status"], name="ro_customer_status_idx")]
        permissions = [
            ("issue_returnorder", "Can issue, hold, cancel and complete return orders"),
            ("receive_returnorder", "Can receive stock against return orders"),
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


class ReturnOrderLine(models.Model):
    """One stock item the customer returns, with what will be done about it."""

    order = models.ForeignKey(
        ReturnOrder, verbose_name="order", on_delete=models.CASCADE, related_name="lines"
    )
    item = models.ForeignKey(
        "inventory.StockItem",
        verbose_name="stock item",
        on_delete=models.PROTECT,
        related_name="return_lines",
    )
    quantity = models.DecimalField("quantity", max_digits=15, decimal_places=5, default=Decimal(1))
    outcome = models.PositiveSmallIntegerField(
        "outcome", choices=ReturnLineOutcome.choices, default=ReturnLineOutcome.PENDING
    )
    price = models.DecimalField(
        "price",
        max_digits=19,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="Cost of the return or repair.",
    )
    received_date = models.DateField("received on", null=True, blank=True, editable=False)
    reference = models.CharField("reference", max_length=100, blank=True)
    notes = models.CharField("notes", max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = "return order line"
        constraints = [
            models.UniqueConstraint(
                fields=["order", "item"],
                name="roline_unique_order_item",
                violation_error_message="This stock item is already on this return order.",
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="roline_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.order.reference}: {self.item}"

    def clean(self):
        super().clean()
        if self.item_id and self.order_id and self.item.customer_id != self.order.customer_id:
            raise ValidationError(
                {"item": f"{self.item} is not with customer {self.order.customer.name}."}
            )
