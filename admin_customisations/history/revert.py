"""Reverting an object to a version from its history: what may be reverted, and how.

The one place that decides, per model, which fields the history page's "Revert" button
restores. A revert restores the *version's* values (never values posted by the browser),
only for the fields listed here, and only through the service that owns the model when
there is one. Everything else — stock quantity, location and status, order and build
status, references, parts of lines, audit fields — is changed only by the operations made
for it; a revert leaves those fields as they are and says which ones differed.

Default for a model not listed: every field its admin's change form lets the user edit
now (form fields minus read-only fields), saved with ``full_clean()``; ``ALWAYS_SERVICE_ONLY``
fields are never reverted on any model.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import capfirst

from admin_customisations.history.changelog import relabel
from inventory.services.common import save_with_history

# Derived or audit columns: never restored by a revert, and not worth naming when they differ.
DERIVED_FIELDS = frozenset(
    {"pathstring", "tree_path", "level", "reference_int", "serial_int", "bom_checksum"}
)
# Never restored on any model: changed only by their own operations.
ALWAYS_SERVICE_ONLY = frozenset(
    {
        *DERIVED_FIELDS,
        "status",
        "created_at",
        "created_by",
        "updated",
        "completed",
        "completed_at",
        "completed_by",
        "issue_date",
        "complete_date",
        "shipment_date",
        "shipped_by",
        "received_by",
        "issued_by",
        "validated",
        "bom_checked_by",
        "bom_checked_date",
        "stocktake_date",
        "stocktake_user",
    }
)

Apply = Callable[[models.Model, dict[str, Any], Any], Any]


@dataclass(frozen=True)
class RevertPolicy:
    """How one model is reverted.

    ``fields``: the fields a revert may restore (``None``: the admin form's editable fields).
    ``service_only``: fields never restored, on top of ``ALWAYS_SERVICE_ONLY``.
    ``changed_by``: who changes the other fields, for the message ("stock operations").
    ``apply(obj, changes, user)``: the service that writes the changes (default: set the
    fields, ``full_clean()``, save with history).
    """

    fields: tuple[str, ...] | None = None
    service_only: frozenset[str] = field(default_factory=frozenset)
    changed_by: str = "the operations made for them"
    apply: Apply | None = None


def _stock_item_apply(item, changes, user):
    from inventory.services.stock_edits import stock_item_update

    return stock_item_update(item=item, user=user, **changes)


def _build_order_apply(build, changes, user):
    from builds.services.build import build_order_update

    return build_order_update(build=build, user=user, **changes)


def _bom_item_apply(bom_item, changes, user):
    from builds.services.bom import bom_item_update

    return bom_item_update(bom_item=bom_item, user=user, **changes)


def _sales_order_apply(order, changes, user):
    from orders.services.sales import sales_order_update

    return sales_order_update(order=order, user=user, **changes)


def _return_order_apply(order, changes, user):
    from orders.services.returns import return_order_update

    return return_order_update(order=order, user=user, **changes)


def _shipment_apply(shipment, changes, user):
    from orders.services.sales import shipment_update

    return shipment_update(shipment=shipment, user=user, **changes)


def _set_then(service: Callable[..., Any], keyword: str) -> Apply:
    """For services that validate and save an instance the caller changed (``*_save``)."""

    def apply(obj, changes, user):
        for name, value in changes.items():
            setattr(obj, name, value)
        return service(**{keyword: obj, "user": user})

    return apply


def _address_apply(address, changes, user):
    from orders.services.companies import address_save

    return _set_then(address_save, "address")(address, changes, user)


def _supplier_part_apply(supplier_part, changes, user):
    from orders.services.companies import supplier_part_save

    return _set_then(supplier_part_save, "supplier_part")(supplier_part, changes, user)


def _manufacturer_part_apply(manufacturer_part, changes, user):
    from orders.services.companies import manufacturer_part_save

    return _set_then(manufacturer_part_save, "manufacturer_part")(manufacturer_part, changes, user)


def _stock_edit_fields():
    from inventory.services.stock_edits import EDITABLE_FIELDS

    return tuple(EDITABLE_FIELDS)


def _build_edit_fields():
    from builds.services.build import EDITABLE_FIELDS

    return tuple(EDITABLE_FIELDS)


def _bom_edit_fields():
    from builds.services.bom import EDITABLE_FIELDS

    return tuple(EDITABLE_FIELDS)


def _order_fields(module):
    def fields():
        from importlib import import_module

        return tuple(import_module(module).ORDER_FIELDS)

    return fields


def _shipment_fields():
    from orders.services.sales import SHIPMENT_FIELDS

    return tuple(SHIPMENT_FIELDS)


NOT_REVERTIBLE = ()  # nothing may be restored: the history page is read-only for everyone

# label -> (policy factory). Factories so that the services' field lists are read lazily.
_POLICIES: dict[str, Callable[[], RevertPolicy]] = {
    "inventory.stockitem": lambda: RevertPolicy(
        fields=_stock_edit_fields(),
        service_only=frozenset({"quantity", "location", "part", "serial"}),
        changed_by="stock operations",
        apply=_stock_item_apply,
    ),
    "inventory.stockitemtracking": lambda: RevertPolicy(
        fields=NOT_REVERTIBLE, changed_by="the stock operations that record them"
    ),
    # Moving a node in a tree changes who owns what (locations) and every path below it.
    "inventory.stocklocation": lambda: RevertPolicy(
        service_only=frozenset({"parent"}), changed_by="the location's change form"
    ),
    "inventory.partcategory": lambda: RevertPolicy(
        service_only=frozenset({"parent"}), changed_by="the category's change form"
    ),
    # Making a part trackable makes its assemblies trackable (R7): the part form checks that;
    # locking/unlocking is a deliberate act on the part form.
    "inventory.part": lambda: RevertPolicy(
        service_only=frozenset({"trackable", "locked", "variant_of", "revision_of"}),
        changed_by="the part's change form",
    ),
    "inventory.partparameter": lambda: RevertPolicy(
        fields=NOT_REVERTIBLE, changed_by="the part page"
    ),
    "builds.buildorder": lambda: RevertPolicy(
        fields=_build_edit_fields(),
        service_only=frozenset({"part", "reference", "quantity"}),
        changed_by="build order operations",
        apply=_build_order_apply,
    ),
    "builds.bomitem": lambda: RevertPolicy(
        fields=_bom_edit_fields(), changed_by="BOM operations", apply=_bom_item_apply
    ),
    # Header fields (the change form's editable ones); status, supplier, reference and lines
    # only by order operations. There is no header service: saved with full_clean().
    "orders.purchaseorder": lambda: RevertPolicy(changed_by="purchase order operations"),
    "orders.salesorder": lambda: RevertPolicy(
        fields=_order_fields("orders.services.sales")(),
        changed_by="sales order operations",
        apply=_sales_order_apply,
    ),
    "orders.returnorder": lambda: RevertPolicy(
        fields=_order_fields("orders.services.returns")(),
        changed_by="return order operations",
        apply=_return_order_apply,
    ),
    "orders.salesordershipment": lambda: RevertPolicy(
        fields=_shipment_fields(), changed_by="shipment operations", apply=_shipment_apply
    ),
    "orders.address": lambda: RevertPolicy(
        service_only=frozenset({"company"}), apply=_address_apply
    ),
    "orders.contact": lambda: RevertPolicy(service_only=frozenset({"company"})),
    "orders.supplierpart": lambda: RevertPolicy(
        service_only=frozenset({"part", "supplier"}), apply=_supplier_part_apply
    ),
    "orders.manufacturerpart": lambda: RevertPolicy(
        service_only=frozenset({"part", "manufacturer"}), apply=_manufacturer_part_apply
    ),
    "admin_customisations.backgroundjob": lambda: RevertPolicy(
        fields=NOT_REVERTIBLE, changed_by="the job runner"
    ),
}
# Lines, allocations and build items change only through their order's or build's operations
# (quantities, allocations, received/shipped amounts): never reverted, should an admin page
# with a history view ever be registered for them.
for _label in (
    "orders.purchaseorderline",
    "orders.purchaseorderextraline",
    "orders.salesorderline",
    "orders.salesorderextraline",
    "orders.salesorderallocation",
    "orders.returnorderline",
    "orders.supplierpricebreak",
    "builds.buildline",
    "builds.builditem",
    "builds.bomitemsubstitute",
):
    _POLICIES[_label] = lambda: RevertPolicy(
        fields=NOT_REVERTIBLE, changed_by="their order's or build's operations"
    )


def policy_for(model) -> RevertPolicy:
    factory = _POLICIES.get(model._meta.label_lower)
    return factory() if factory else RevertPolicy()


# --------------------------------------------------------------------------- planning


def _candidate_fields(model):
    """Fields a version can differ in that are worth naming: concrete, editable, not the key."""
    return [
        f
        for f in model._meta.concrete_fields
        if f.editable and not f.primary_key and f.name not in DERIVED_FIELDS
    ]


def revertible_fields(model_admin, request, obj) -> tuple[str, ...]:
    """The fields a revert of ``obj`` may restore for this user: the policy's fields, limited to
    what the admin's change form lets this user edit now, minus the service-only fields."""
    policy = policy_for(model_admin.model)
    form_class = model_admin.get_form(request, obj, change=True)
    readonly = set(model_admin.get_readonly_fields(request, obj))
    editable = [name for name in form_class.base_fields if name not in readonly]
    wanted = editable if policy.fields is None else [n for n in policy.fields if n in editable]
    names = {f.name for f in _candidate_fields(model_admin.model)}
    blocked = ALWAYS_SERVICE_ONLY | policy.service_only
    return tuple(n for n in wanted if n in names and n not in blocked)


@dataclass
class RevertPlan:
    """What reverting ``current`` to ``version`` would do."""

    current: models.Model
    version: Any  # the historical record
    changes: dict[str, Any]  # field name -> the version's value (related objects, not ids)
    refused: list[str]  # fields that differ but may not be reverted
    missing: list[str]  # fields whose version points at an object that no longer exists
    changed_by: str

    @property
    def noun(self) -> str:
        return str(self.current._meta.verbose_name)

    def labels(self, names) -> list[str]:
        opts = self.current._meta
        return [capfirst(str(opts.get_field(n).verbose_name)) for n in names]

    def refused_message(self) -> str:
        if not self.refused:
            return ""
        names = join_names(self.labels(self.refused))
        verb = "was" if len(self.refused) == 1 else "were"
        return f"{names} can only be changed by {self.changed_by} and {verb} not reverted."

    def missing_message(self) -> str:
        if not self.missing:
            return ""
        names = join_names(self.labels(self.missing))
        return (
            f"{names}: the object this version refers to no longer exists, so it was not reverted."
        )

    def reason(self) -> str:
        return revert_reason(self.version)


def join_names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def version_label(record) -> str:
    return timezone.localtime(record.history_date).strftime("%Y-%m-%d %H:%M")


def revert_reason(record) -> str:
    """History reason of a revert: the version's date and who made that version."""
    author = f" (by {record.history_user})" if record.history_user_id else ""
    return f"Reverted to version of {version_label(record)}{author}"


def plan_revert(model_admin, request, current, record) -> RevertPlan:
    """Compare ``current`` with the version ``record``; nothing is written."""
    policy = policy_for(model_admin.model)
    allowed = set(revertible_fields(model_admin, request, current))
    version = record.instance
    changes, refused, missing = {}, [], []
    for f in _candidate_fields(model_admin.model):
        old, now = f.value_from_object(version), f.value_from_object(current)
        if old == now:
            continue
        if f.name not in allowed:
            refused.append(f.name)
            continue
        if f.is_relation and old is not None:
            target = f.remote_field.model._base_manager.filter(
                **{f.remote_field.field_name: old}
            ).first()
            if target is None:
                missing.append(f.name)
                continue
            changes[f.name] = target
        else:
            changes[f.name] = old
    return RevertPlan(current, record, changes, refused, missing, policy.changed_by)


def _save_directly(obj, changes, user, *, reason):
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.full_clean()
    save_with_history(obj, user=user, reason=reason)
    return obj


@transaction.atomic
def apply_revert(model_admin, request, current, record) -> RevertPlan:
    """Revert ``current`` to ``record`` (the version) through the model's service.

    Re-plans against the row locked for the transaction; writes nothing when nothing may be
    restored. The history rows the revert writes for the object carry the revert reason and
    the acting user. Raises ValidationError (with the service's message) when refused.
    """
    model = model_admin.model
    locked = model._base_manager.select_for_update().get(pk=current.pk)
    plan = plan_revert(model_admin, request, locked, record)
    if not plan.changes:
        return plan
    user = request.user
    reason = plan.reason()
    history = record.__class__._default_manager
    pk_name = model._meta.pk.attname
    before = history.filter(**{pk_name: locked.pk}).aggregate(last=Max("history_id"))["last"] or 0
    policy = policy_for(model)
    if policy.apply is None:
        _save_directly(locked, dict(plan.changes), user, reason=reason)
    else:
        policy.apply(locked, dict(plan.changes), user)
    written = history.filter(**{pk_name: locked.pk, "history_id__gt": before})
    relabel(written, user=user, reason=reason)
    return plan


__all__ = [
    "ALWAYS_SERVICE_ONLY",
    "RevertPlan",
    "RevertPolicy",
    "ValidationError",
    "apply_revert",
    "plan_revert",
    "policy_for",
    "revert_reason",
    "revertible_fields",
]
