"""Helpers shared by the inventory services: history attribution, quantities, locking."""

import contextvars
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone

from inventory.choices import StockHistoryCode
from inventory.models.stock import StockItemState, StockItemTracking
from inventory.services.actors import acting_as, attributed_user, person

_reason_suffix = contextvars.ContextVar("stockroom_history_reason_suffix", default="")


@contextmanager
def history_reason_suffix(suffix: str):
    """Append ``suffix`` (e.g. " (job #42)") to every history reason written inside."""
    token = _reason_suffix.set(suffix)
    try:
        yield
    finally:
        _reason_suffix.reset(token)


def with_reason_suffix(reason: str) -> str:
    """``reason`` with the current suffix (for bulk history writes, which send no signal)."""
    suffix = _reason_suffix.get()
    if not suffix or reason.endswith(suffix):
        return reason
    return f"{reason}{suffix}"[:100]


def _attribute(obj, user, reason: str) -> None:
    """Set the history user and reason of ``obj``'s next historical record.

    ``user`` is the acting person; without one (None, an anonymous user) the record goes
    to the named system actor of ``actors.acting_as`` if one is acting, else to the
    logged-in user of the current request (simple-history's middleware)."""
    attributed = attributed_user(user)
    if attributed is not None:
        obj._history_user = attributed
    obj._change_reason = reason


def save_with_history(obj, *, user, reason: str, **kwargs) -> None:
    """Save ``obj`` with the simple-history record attributed to ``user`` and ``reason``."""
    _attribute(obj, user, reason)
    obj.save(**kwargs)


def create_with_history(model, *, user, reason: str, **fields):
    """``model.objects.create(**fields)``, its "+" history record attributed."""
    obj = model(**fields)
    save_with_history(obj, user=user, reason=reason, force_insert=True)
    return obj


def delete_with_history(obj, *, user, reason: str) -> None:
    """Delete ``obj`` leaving an attributed "deleted" history record; rows deleted with it
    (cascades: an item's tracking entries, a build's lines) get the same user and reason."""
    _attribute(obj, user, reason)
    acting = attributed_user(user)
    if acting is None:
        obj.delete()
        return
    with acting_as(acting, reason=reason):
        obj.delete()


def track_stock(item, code, *, user, notes: str = "", deltas=None) -> StockItemTracking:
    """One stock tracking entry for ``item``; its history record is attributed to ``user``
    with the entry type as reason ("Location changed")."""
    return create_with_history(
        StockItemTracking,
        user=user,
        reason=StockHistoryCode(code).label,
        item=item,
        tracking_type=code,
        user_id=getattr(person(user), "pk", None),
        notes=notes[:500],
        deltas=deltas if deltas is not None else {},
    )


QUANTUM = Decimal("0.00001")


def to_quantity(value, *, field: str = "quantity", allow_zero: bool = False) -> Decimal:
    """Parse a user-supplied quantity into a Decimal with at most 5 decimal places."""
    try:
        quantity = Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field: f"'{value}' is not a number."}) from None
    if not quantity.is_finite():
        raise ValidationError({field: f"'{value}' is not a number."})
    if quantity < 0 or (quantity == 0 and not allow_zero):
        raise ValidationError(
            {
                field: "Quantity must be greater than zero."
                if not allow_zero
                else "Quantity cannot be negative."
            }
        )
    # before quantize: a quantity over the context's 28 digits (1e30, 1e5000) makes it raise
    check_quantity_fits(quantity, field=field)
    try:
        stored = quantity.quantize(QUANTUM)
    except InvalidOperation:
        raise ValidationError({field: "Quantity can have at most 5 decimal places."}) from None
    if quantity != stored:
        raise ValidationError({field: "Quantity can have at most 5 decimal places."})
    # Products such as packs × pack quantity carry extra zero decimals; store exactly 5 places.
    return stored


# quantity columns are DECIMAL(15, 5): at most 10 digits before the point
QUANTITY_LIMIT = Decimal(10) ** 10


def check_quantity_fits(quantity: Decimal, *, field: str = "quantity") -> None:
    """Refuse a quantity the database column cannot store (instead of a database error)."""
    if abs(quantity) >= QUANTITY_LIMIT:
        raise ValidationError(
            {field: f"Quantity is too large (must be less than {QUANTITY_LIMIT:,.0f})."}
        )


def fmt(quantity: Decimal) -> str:
    """A quantity as users write it: 10, 2.5 (no trailing zeros or exponent)."""
    text = f"{Decimal(quantity).normalize():f}"
    return text


def lock(model, pk):
    """Re-read a row with a row lock held until the transaction ends (no-op on SQLite,
    whose IMMEDIATE transactions already serialise writers)."""
    try:
        return model.objects.select_for_update().get(pk=pk)
    except model.DoesNotExist:
        raise ValidationError(
            f"This {model._meta.verbose_name} no longer exists (deleted by someone else?)."
        ) from None


def prepare_tree_node_delete(node, *, members_exist: bool, members: str) -> None:
    """Check that ``node``'s children and members can move up to its parent, then free its name.

    Refuses (ValidationError) when a child would clash by name with a node already at the
    parent's level, or when members would land in a structural parent. The node's name is
    then set aside (it can never clash: real names cannot contain "/"), so that a child
    called like the node itself can take its place.
    """
    model = type(node)
    parent = node.parent
    siblings = model.objects.filter(parent=parent).exclude(pk=node.pk)
    taken = {name.lower() for name in siblings.values_list("name", flat=True)}
    clashes = sorted(c.name for c in node.children.all() if c.name.lower() in taken)
    if clashes:
        where = f"'{parent}'" if parent else "the top level"
        raise ValidationError(
            f"Cannot delete '{node}': {', '.join(clashes)} would move to {where}, "
            "which already has an entry with that name. Rename or move them first."
        )
    if members_exist and parent is not None and parent.structural:
        raise ValidationError(
            f"Cannot delete '{node}': its {members} would move to '{parent}', which is "
            "structural. Move them first."
        )
    model.objects.filter(pk=node.pk).update(name=f"/deleted/{node.pk}")


# ---------------------------------------------------------------- items that left our stock

# What each stock operation does to an item, as "it cannot be ..." (also the operation names
# ``check_item_changeable`` accepts).
OPERATIONS = {
    "add": "have stock added",
    "remove": "have stock removed",
    "count": "counted",
    "split": "split",
    "move": "moved",
    "merge": "merged",
    "serialize": "serialized",
    "status": "given another status",
    "assign": "sent to a customer",
    "install": "installed into another item",
    "install_into": "have items installed into it",
    "uninstall": "uninstalled",
    "return": "returned from a customer",
    "edit": "edited",
    "delete": "deleted",
}

# The only operations allowed on an item in each state: the ones made for it.
STATE_OPERATIONS = {
    StockItemState.CONSUMED: frozenset(),
    StockItemState.SHIPPED: frozenset({"return"}),
    StockItemState.INSTALLED: frozenset({"uninstall"}),
    StockItemState.WITH_CUSTOMER: frozenset({"return"}),
}

# Operations made for a state (return from customer, uninstall): an item in no such state
# has nothing to return or uninstall.
STATE_ONLY_OPERATIONS = frozenset().union(*STATE_OPERATIONS.values())

# Operations the stock services refuse for a serialized item (``_check_not_serialized``):
# a serial number is one unit, so its quantity cannot change.
SERIALIZED_REFUSED_OPERATIONS = frozenset({"add", "remove", "split", "serialize"})


def operation_applies(item, operation: str) -> bool:
    """Could ``operation`` (a key of OPERATIONS) apply to ``item`` as it is now? The same
    rules the services enforce (check_item_changeable, serialized items, serializing needs a
    trackable part), asked before offering the operation on the item's page; the service
    still decides (quantities, ownership, …)."""
    if operation not in OPERATIONS:
        raise ValueError(f"Unknown stock operation {operation!r}")
    state = item.state
    if state is not None:
        return operation in STATE_OPERATIONS[state]
    if operation in STATE_ONLY_OPERATIONS:
        return False
    if item.is_serialized and operation in SERIALIZED_REFUSED_OPERATIONS:
        return False
    return operation != "serialize" or item.part.trackable


# The timeline entry that records when an item entered each state.
STATE_TRACKING = {
    StockItemState.CONSUMED: [StockHistoryCode.BUILD_CONSUMED],
    StockItemState.SHIPPED: [StockHistoryCode.SHIPPED_AGAINST_SALES_ORDER],
    StockItemState.INSTALLED: [StockHistoryCode.INSTALLED_INTO_ASSEMBLY],
    StockItemState.WITH_CUSTOMER: [
        StockHistoryCode.SENT_TO_CUSTOMER,
        StockHistoryCode.SHIPPED_AGAINST_SALES_ORDER,
    ],
}


def state_since(item):
    """The date ``item`` entered its current state (from its timeline), or None."""
    state = item.state
    if state is None:
        return None
    entry = (
        StockItemTracking.objects.filter(item_id=item.pk, tracking_type__in=STATE_TRACKING[state])
        .order_by("-date", "-pk")
        .values_list("date", flat=True)
        .first()
    )
    return timezone.localtime(entry).date() if entry else None


def describe_state(item) -> str:
    """What happened to an item that left our stock, e.g. "was consumed by build BO-0006
    on 2026-11-03" ("" for an item that is held)."""
    state = item.state
    if state is None:
        return ""
    date = state_since(item)
    on = f" on {date:%Y-%m-%d}" if date else ""
    since = f" since {date:%Y-%m-%d}" if date else ""
    if state == StockItemState.CONSUMED:
        return f"was consumed by build {item.consumed_by.reference}{on}"
    if state == StockItemState.SHIPPED:
        to = f" to {item.customer.name}" if item.customer_id else ""
        return f"was shipped{to} against sales order {item.sales_order.reference}{on}"
    if state == StockItemState.INSTALLED:
        return f"is installed in {item.belongs_to} (item {item.belongs_to_id}){since}"
    return f"is with customer {item.customer.name}{since}"


_REMEDY = {
    StockItemState.SHIPPED: "return it from the customer (or receive it on a return order) first",
    StockItemState.INSTALLED: "uninstall it first",
    StockItemState.WITH_CUSTOMER: "return it from the customer first",
}


def check_item_changeable(item, operation: str) -> None:
    """The one rule for items that left our stock (consumed, shipped, installed, with a
    customer): only the operations made for their state may change them. Every stock service
    calls this for every item it changes; anything else is refused with the reason."""
    if operation not in OPERATIONS:
        raise ValueError(f"Unknown stock operation {operation!r}")
    state = item.state
    if state is None or operation in STATE_OPERATIONS[state]:
        return
    what = describe_state(item)
    if state == StockItemState.CONSUMED:
        raise ValidationError(f"{item} {what} and can no longer be changed.")
    raise ValidationError(
        f"{item} {what}, so it cannot be {OPERATIONS[operation]}: {_REMEDY[state]}."
    )
