"""Annotation helpers shared by the purchase, sales and return order selectors."""

from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    IntegerField,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

QUANTITY = DecimalField(max_digits=20, decimal_places=5)
MONEY = DecimalField(max_digits=30, decimal_places=6)


def subquery_sum(qs, expression, output_field):
    """Σ ``expression`` over the (correlated) rows ``qs``, 0 when there are none."""
    total = (
        qs.order_by()
        .annotate(_g=Value(1))
        .values("_g")
        .annotate(t=Sum(ExpressionWrapper(expression, output_field=output_field)))
        .values("t")
    )
    return Coalesce(
        Subquery(total[:1], output_field=output_field),
        Value(Decimal(0)),
        output_field=output_field,
    )


def subquery_count(qs):
    """How many (correlated) rows ``qs`` has."""
    n = qs.order_by().annotate(_g=Value(1)).values("_g").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(n[:1], output_field=IntegerField()), Value(0))


def overdue_q(open_statuses, today=None) -> Q:
    """Open and the target date has passed (R61)."""
    return Q(status__in=open_statuses, target_date__lt=today or timezone.localdate())


def overdue_expression(open_statuses, today=None):
    """True for an open order whose target date has passed (R61)."""
    return Case(
        When(overdue_q(open_statuses, today), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
