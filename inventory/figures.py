"""Maintained figures: ``Part.in_stock_total`` (Σ quantity of the part's in-stock items).

Why maintained (docs/decisions.md, "Figures on big lists"): the part list's "low stock" and
"has stock" filters and the "in stock" sort need the figure for every part, which at a
million stock items is seconds of summing per request. Every stock change is a
``StockItem.save()`` or ``.delete()`` (the services write through ``save_with_history`` /
``delete_with_history``), so the receivers below recompute the figure of the item's part
(and of its previous part, if it changed) from scratch in the same transaction: correct by
construction, whatever the service changed (quantity, status, location, installation,
customer, build, shipment). Code that writes stock in bulk (``bulk_create``, ``update()``,
the data generator) calls ``refresh_part_stock`` itself; ``refresh_part_stock()`` without
arguments repairs every part.
"""

import contextvars
from contextlib import contextmanager
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete, post_init, post_save

QUANTITY = DecimalField(max_digits=20, decimal_places=5)


def in_stock_sum_expression(part_ref: str = "pk") -> Coalesce:
    """Σ quantity of the in-stock items of the part at OuterRef ``part_ref`` (0 without any)."""
    from inventory.models import StockItem

    total = (
        StockItem.objects.in_stock()
        .filter(part=OuterRef(part_ref))
        .order_by()
        .values("part")
        .annotate(t=Sum("quantity"))
        .values("t")[:1]
    )
    return Coalesce(
        Subquery(total, output_field=QUANTITY), Value(Decimal(0)), output_field=QUANTITY
    )


def refresh_part_stock(part_ids=None) -> None:
    """Recompute ``in_stock_total`` of the given parts (all parts when ``None``).

    The part rows are locked first, so a concurrent transaction changing the same part's
    stock recomputes after this one commits (and sees its items)."""
    from inventory.models import Part

    parts = Part.objects.all()
    if part_ids is not None:
        part_ids = sorted({pk for pk in part_ids if pk is not None})
        if not part_ids:
            return
        parts = parts.filter(pk__in=part_ids)
        list(parts.select_for_update().values_list("pk", flat=True))
    parts.update(in_stock_total=in_stock_sum_expression())


_deferred = contextvars.ContextVar("stockroom_figures_deferred", default=None)


@contextmanager
def deferred_refresh():
    """Inside, item saves only note their parts; the figures are recomputed once at the end
    (still inside the caller's transaction). For bulk work that saves many items of the same
    part; nothing in the services reads ``in_stock_total`` in between."""
    if _deferred.get() is not None:  # nested: the outer block refreshes
        yield
        return
    pending: set = set()
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    refresh_part_stock(pending)


def _refresh(part_ids) -> None:
    pending = _deferred.get()
    if pending is None:
        refresh_part_stock(part_ids)
    else:
        pending.update(pk for pk in part_ids if pk is not None)


def _remember_part(sender, instance, **kwargs):
    instance._figures_part_id = instance.__dict__.get("part_id")


def _item_saved(sender, instance, raw=False, **kwargs):
    if raw:  # loaddata: figures are refreshed once afterwards
        return
    previous = getattr(instance, "_figures_part_id", None)
    _refresh({instance.part_id, previous})
    instance._figures_part_id = instance.part_id


def _item_deleted(sender, instance, **kwargs):
    _refresh({instance.part_id, getattr(instance, "_figures_part_id", None)})


def connect() -> None:
    """Called from InventoryConfig.ready()."""
    from inventory.models import StockItem

    post_init.connect(_remember_part, sender=StockItem, dispatch_uid="figures_remember_part")
    post_save.connect(_item_saved, sender=StockItem, dispatch_uid="figures_item_saved")
    post_delete.connect(_item_deleted, sender=StockItem, dispatch_uid="figures_item_deleted")
