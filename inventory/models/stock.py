"""Stock: locations, stock items and their tracking timeline."""

import re
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models.functions import Coalesce
from django.utils import timezone
from simple_history.models import HistoricalRecords

from inventory.choices import AVAILABLE_STATUSES, StockHistoryCode, StockStatus
from inventory.models.parts import TREE_HISTORY_EXCLUDED
from inventory.models.tree import TreeNode

SERIAL_INT_MAX = 2**31 - 1


class StockLocation(TreeNode):
    """A place stock is kept ("Warehouse/Aisle 3/Shelf B")."""

    external = models.BooleanField(
        "external",
        default=False,
        help_text="Stock here is held outside the company (e.g. at a subcontractor).",
    )

    # Maintained figure: stock items whose location is this one (not its sub-locations),
    # recounted by inventory.figures whenever an item is saved or deleted, so the location
    # list sums a subtree's counters instead of counting a million item rows.
    items_stored = models.PositiveIntegerField(
        "items stored here",
        default=0,
        editable=False,
        help_text="Stock items stored directly in this location (kept up to date by the stock services).",
    )

    history = HistoricalRecords(excluded_fields=[*TREE_HISTORY_EXCLUDED, "items_stored"])

    class Meta(TreeNode.Meta):
        verbose_name = "stock location"
        constraints = TreeNode.tree_constraints("stocklocation")

    structural_conflict_message = (
        "Cannot be made structural while stock items are stored in it directly."
    )

    def has_direct_members(self) -> bool:
        return self.stock_items.exists()


class StockItemState(models.TextChoices):
    """Where an item went that is no longer ours to change (``StockItem.state``).

    Each is derived from one field (first match wins, in this order); an item in one of
    these states may only be changed by the operations made for it (return from
    customer, uninstall), see ``inventory.services.common.check_item_changeable``.
    """

    CONSUMED = "consumed", "consumed by a build"
    SHIPPED = "shipped", "shipped against a sales order"
    INSTALLED = "installed", "installed in another item"
    WITH_CUSTOMER = "with_customer", "with a customer"


# The field behind each state, in precedence order.
STATE_FIELDS = (
    (StockItemState.CONSUMED, "consumed_by"),
    (StockItemState.SHIPPED, "sales_order"),
    (StockItemState.INSTALLED, "belongs_to"),
    (StockItemState.WITH_CUSTOMER, "customer"),
)


class StockItemQuerySet(models.QuerySet):
    def held(self):
        """Items in none of the StockItemState states (whatever their quantity or status).

        The same set on every database, written for each planner:

        - SQLite: one ``COALESCE(...) IS NULL``. With four ``IS NULL`` its planner would use
          one of those columns' (unselective) indexes and sort every row instead of reading a
          sorted page from the index the list is ordered by (tests/inventory/test_explain.py).
        - PostgreSQL: four ``IS NULL``, which it estimates from each column's statistics
          (nearly every row is held). It estimates ``COALESCE(...) IS NULL`` as 0.5 % of the
          rows whatever the data, and then sorts the whole table for a deep page or walks a
          subtree's items through the location index instead of reading the newest items
          backwards from the primary key (docs/performance.md).
        """
        if connections[self.db].vendor == "postgresql":
            return self.filter(**{f"{field}__isnull": True for _, field in STATE_FIELDS})
        return self.alias(_held_by=Coalesce(*(field for _, field in STATE_FIELDS))).filter(
            _held_by__isnull=True
        )

    def in_state(self, state):
        """Items whose ``StockItem.state`` is ``state`` (the same precedence, in one filter).

        On SQLite the earlier fields' ``IS NULL`` is one ``COALESCE(..., NULL) IS NULL``, so its
        planner reads the few items of the state from the state field's index instead of
        walking an earlier field's index over every row where it is NULL.
        """
        fields = [field for _, field in STATE_FIELDS]
        states = [each for each, _ in STATE_FIELDS]
        if state not in states:
            raise ValueError(f"Unknown stock item state {state!r}")
        field = fields[states.index(state)]
        prior = fields[: states.index(state)]
        if connections[self.db].vendor == "postgresql":
            return self.filter(
                **{f"{field}__isnull": False, **{f"{each}__isnull": True for each in prior}}
            )
        # "> 0" (ids are positive): a range SQLite reads from the field's index; it does not
        # for IS NOT NULL
        queryset = self.filter(**{f"{field}__gt": 0})
        if not prior:
            return queryset
        return queryset.alias(
            _prior_state=Coalesce(*prior, models.Value(None), output_field=models.IntegerField())
        ).filter(_prior_state__isnull=True)

    def in_stock(self):
        """Items that count as stock on hand. The only definition of "in stock" (DESIGN.md §2).

        On SQLite the status and quantity tests are ``status + 0 IN (...)`` and
        ``quantity + 0 > 0``: nearly every item passes both, and on the plain columns its
        planner (without statistics) reads their unselective indexes — and sorts — instead of
        the index the list is ordered by or a selective one (expiry, location, part).
        """
        queryset = self.held().filter(is_building=False)
        if connections[self.db].vendor == "postgresql":
            return queryset.filter(quantity__gt=0, status__in=AVAILABLE_STATUSES)
        return queryset.alias(
            _status_value=models.ExpressionWrapper(
                models.F("status") + 0, output_field=models.IntegerField()
            ),
            _quantity_value=models.ExpressionWrapper(
                models.F("quantity") + 0, output_field=models.DecimalField()
            ),
        ).filter(_status_value__in=AVAILABLE_STATUSES, _quantity_value__gt=0)

    def not_in_stock(self):
        """The complement of ``in_stock()``: held elsewhere, empty, unavailable or in production."""
        return self.filter(self._not_in_stock_q())

    @staticmethod
    def _not_in_stock_q():
        left = models.Q()
        for _, field in STATE_FIELDS:
            left |= models.Q(**{f"{field}__isnull": False})
        return (
            left
            | models.Q(quantity__lte=0)
            | ~models.Q(status__in=AVAILABLE_STATUSES)
            | models.Q(is_building=True)
        )

    def expired(self, today=None):
        """In-stock items whose expiry date has passed (expiring today is not expired)."""
        return self.in_stock().filter(expiry_date__lt=today or timezone.localdate())

    def expiring(self, days: int, today=None):
        """In-stock items that expire within ``days`` days: not expired yet (expiring today
        counts), expiry date at most ``today + days`` (the expiry index's range)."""
        today = today or timezone.localdate()
        return self.in_stock().filter(
            expiry_date__gte=today, expiry_date__lte=today + timedelta(days=days)
        )

    def not_expired(self, today=None):
        """The complement of ``expired()``."""
        today = today or timezone.localdate()
        return self.filter(
            self._not_in_stock_q()
            | models.Q(expiry_date__isnull=True)
            | models.Q(expiry_date__gte=today)
        )

    def in_location_subtree(self, location):
        """Items in ``location`` or below it: the locations' tree_path prefix index, then
        the items' location index (see inventory.search.prefix_q)."""
        from inventory.search import prefix_q

        return self.filter(
            location__in=StockLocation.objects.filter(prefix_q("tree_path", location.tree_path))
        )

    def in_category_subtree(self, category):
        return self.filter(part__category__tree_path__startswith=category.tree_path)


class IndexedHistoricalRecords(HistoricalRecords):
    """``HistoricalRecords`` whose historical model has ``indexes`` too (simple-history
    takes no Meta options for the model it generates)."""

    def __init__(self, *args, indexes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.extra_indexes = list(indexes)

    def get_meta_options(self, model):
        meta = super().get_meta_options(model)
        meta["indexes"] = [*meta.get("indexes", ()), *self.extra_indexes]
        return meta


def serial_to_int(serial: str) -> int:
    """Integer used to sort serials: the first run of digits, clipped to 2^31-1 (0 if none)."""
    match = re.search(r"\d+", serial or "")
    if not match:
        return 0
    return min(int(match.group()), SERIAL_INT_MAX)


class StockItem(models.Model):
    """A physical quantity of one part: a batch, a serialized unit, a reel..."""

    part = models.ForeignKey(
        "inventory.Part", verbose_name="part", on_delete=models.PROTECT, related_name="stock_items"
    )
    quantity = models.DecimalField("quantity", max_digits=15, decimal_places=5, default=Decimal(1))
    location = models.ForeignKey(
        StockLocation,
        verbose_name="location",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_items",
    )
    serial = models.CharField("serial number", max_length=100, blank=True)
    serial_int = models.PositiveIntegerField("serial (numeric)", default=0, editable=False)
    batch = models.CharField("batch code", max_length=100, blank=True)
    status = models.PositiveSmallIntegerField(
        "status", choices=StockStatus.choices, default=StockStatus.OK
    )
    expiry_date = models.DateField("expiry date", null=True, blank=True)
    purchase_price = models.DecimalField(
        "purchase price",
        max_digits=19,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="Unit purchase price.",
    )
    purchase_price_currency = models.CharField(
        "currency", max_length=3, blank=True, help_text="ISO 4217 code, e.g. EUR."
    )
    customer = models.ForeignKey(
        "orders.Company",
        verbose_name="customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_stock",
        limit_choices_to={"is_customer": True},
    )
    belongs_to = models.ForeignKey(
        "self",
        verbose_name="installed in",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="installed_items",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="split from",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="split_children",
    )
    supplier_part = models.ForeignKey(
        "orders.SupplierPart",
        verbose_name="supplier part",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stock_items",
    )
    purchase_order = models.ForeignKey(
        "orders.PurchaseOrder",
        verbose_name="purchase order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="received_stock",
        help_text="The purchase order this stock was received against.",
    )
    sales_order = models.ForeignKey(
        "orders.SalesOrder",
        verbose_name="sales order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="shipped_stock",
        help_text="The sales order this stock was shipped against.",
    )
    build = models.ForeignKey(
        "builds.BuildOrder",
        verbose_name="build",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outputs",
        help_text="The build order that produced this item.",
    )
    consumed_by = models.ForeignKey(
        "builds.BuildOrder",
        verbose_name="consumed by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consumed_stock",
        help_text="The build order that used this stock up.",
    )
    is_building = models.BooleanField(
        "in production", default=False, help_text="A build output not yet completed."
    )
    delete_on_deplete = models.BooleanField(
        "delete when depleted",
        default=True,
        help_text="Delete this item when its quantity reaches zero.",
    )
    notes = models.TextField("notes", blank=True)
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated = models.DateTimeField("updated", auto_now=True, db_index=True)
    stocktake_date = models.DateField("last stocktake", null=True, blank=True)
    stocktake_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="stocktake by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = StockItemQuerySet.as_manager()
    # stock as of a date (inventory.selectors_as_of): each item's latest row at a moment, for
    # the items of some parts, read from this index alone
    history = IndexedHistoricalRecords(
        indexes=[
            models.Index(
                fields=["part", "id", "history_date", "history_id"],
                name="hist_stockitem_part_item_idx",
            )
        ]
    )

    class Meta:
        ordering = ["part__name", "serial_int", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0), name="stockitem_quantity_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(serial="") | models.Q(quantity=1),
                name="stockitem_serialized_quantity_one",
            ),
            models.UniqueConstraint(
                fields=["part", "serial"],
                condition=~models.Q(serial=""),
                name="stockitem_unique_part_serial",
            ),
        ]
        indexes = [
            models.Index(fields=["part", "status"], name="stockitem_part_status_idx"),
            # each sortable column of the stock list with its pk tie-breaker (the admin's
            # IndexOrderChangeList), so a sorted page reads 50 index entries in either
            # direction instead of sorting every row
            models.Index(fields=["serial", "id"], name="stockitem_serial_idx"),
            models.Index(fields=["batch", "id"], name="stockitem_batch_idx"),
            models.Index(fields=["expiry_date", "id"], name="stockitem_expiry_idx"),
            models.Index(fields=["quantity", "id"], name="stockitem_quantity_idx"),
            models.Index(fields=["status", "id"], name="stockitem_status_idx"),
            # batch prefix search on PostgreSQL (LIKE 'x%'; ignored elsewhere)
            models.Index(
                fields=["batch"], name="stockitem_batch_like_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self):
        if self.is_serialized:
            return f"{self.part.name} #{self.serial}"
        return f"{Decimal(str(self.quantity)).normalize():f} × {self.part.name}"

    def save(self, *args, **kwargs):
        self.serial_int = serial_to_int(self.serial)
        if self.serial:
            self.delete_on_deplete = False
        super().save(*args, **kwargs)

    @property
    def is_serialized(self) -> bool:
        return bool(self.serial.strip()) and self.quantity == 1

    @property
    def state(self) -> StockItemState | None:
        """Consumed, shipped, installed or with a customer (None: held in our stock).

        Same-row version of StockItemQuerySet.in_state / held."""
        for state, field in STATE_FIELDS:
            if getattr(self, f"{field}_id") is not None:
                return state
        return None

    @property
    def is_in_stock(self) -> bool:
        """Same-row version of StockItemQuerySet.in_stock, for one loaded item."""
        return (
            self.state is None
            and self.quantity > 0
            and self.status in AVAILABLE_STATUSES
            and not self.is_building
        )

    @property
    def is_expired(self) -> bool:
        return bool(
            self.expiry_date and self.is_in_stock and self.expiry_date < timezone.localdate()
        )

    def clean(self):
        super().clean()
        self.serial = (self.serial or "").strip()
        errors = {}
        part = self.part if self.part_id else None
        if self.quantity is not None and self.quantity < 0:
            errors["quantity"] = "Quantity cannot be negative."
        if self.serial and self.quantity != 1:
            errors["quantity"] = "A serialized item must have quantity 1."
        if part is not None:
            if part.virtual:
                errors["part"] = f"'{part}' is virtual: it cannot hold stock."
            if part.trackable and self.quantity is not None and self.quantity != int(self.quantity):
                errors["quantity"] = f"'{part}' is trackable: quantity must be a whole number."
            if self.serial and serial_conflicts(part, [self.serial], exclude_pk=self.pk):
                errors["serial"] = (
                    f"Serial number {self.serial} already exists for '{part.variant_family()}' or its variants."
                )
        if self.location_id and self.location.structural:
            errors["location"] = (
                f"'{self.location}' is a structural location: choose one of its sub-locations."
            )
        if self.belongs_to_id and self.belongs_to_id == self.pk:
            errors["belongs_to"] = "An item cannot be installed in itself."
        if errors:
            raise ValidationError(errors)


def variant_family_part_ids(part) -> list[int]:
    """Ids of every part in ``part``'s variant family (the root template and all its variants)."""
    from inventory.models.parts import Part

    root = part.variant_family()
    ids, frontier = {root.pk}, [root.pk]
    while frontier:
        frontier = list(Part.objects.filter(variant_of__in=frontier).values_list("pk", flat=True))
        frontier = [pk for pk in frontier if pk not in ids]
        ids.update(frontier)
    return sorted(ids)


def serial_conflicts(part, serials, exclude_pk=None) -> list[str]:
    """Serials from ``serials`` already used within the part's variant family."""
    qs = StockItem.objects.filter(
        part_id__in=variant_family_part_ids(part), serial__in=list(serials)
    )
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return sorted(set(qs.values_list("serial", flat=True)))


class StockItemTracking(models.Model):
    """One entry in a stock item's timeline, written only by the stock services."""

    item = models.ForeignKey(
        StockItem, verbose_name="stock item", on_delete=models.CASCADE, related_name="tracking"
    )
    tracking_type = models.PositiveSmallIntegerField("type", choices=StockHistoryCode.choices)
    date = models.DateTimeField("date", default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="user",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    notes = models.CharField("notes", max_length=500, blank=True)
    deltas = models.JSONField("details", default=dict, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = "stock tracking entry"
        verbose_name_plural = "stock tracking entries"
        indexes = [models.Index(fields=["item", "-date"], name="stocktracking_item_date_idx")]

    def __str__(self):
        return f"{self.get_tracking_type_display()} ({self.date:%Y-%m-%d %H:%M})"
