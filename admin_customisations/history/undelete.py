"""Bringing a deleted object back from its history ("undelete").

A deleted part, part category, stock location, company or parameter template is recreated
from its last historical record (simple-history's "-" record holds its values at deletion)
with the same primary key, so links in other objects' history point at it again. It is
refused, with a message saying what to do, when:

* its natural key is taken now (a part with the same IPN, or name + IPN + revision; a
  category or location of the same name under the same parent; a company or parameter
  template of the same name — all ignoring case): rename the other object first;
* a link it needs is gone (the parent category or location, the part's category, template
  or original part): restore that first. Links it can do without (a default location, the
  user who created it) are left empty and the preview says so;
* the user may not add such objects (the role's *add*), or — for a stock location under an
  owned location with ``STOCK_OWNERSHIP_CONTROL`` — does not own the parent location.

The object is validated like the admin's add form (``full_clean``) and saved with
``save_with_history``, so tree paths are recomputed by the model and the history record
("+") carries the acting user and the reason "Restored after deletion of <date> (deleted
by <user>)". Objects deleted along with it (parameters, BOM lines, contacts…), its
sub-entries and members that moved up to its parent, and object permissions (owners) are
not restored.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import capfirst
from simple_history.utils import get_history_model_for_model

from admin_customisations.permissions import object_rules_allow, user_may
from inventory.models.tree import TreeNode
from inventory.services.common import save_with_history

UNDELETABLE = frozenset(
    {
        "inventory.part",
        "inventory.partcategory",
        "inventory.stocklocation",
        "inventory.partparametertemplate",
        "orders.company",
    }
)

# Links an undeleted object cannot do without: restore their target first.
REQUIRED_LINKS = frozenset({"parent", "category", "variant_of", "revision_of"})

# How the refusal names each of them ("Its parent part category 'Electronics' has been deleted")
_REQUIRED_PHRASES = {
    "parent": "Its parent {noun} '{what}' has been deleted",
    "category": "Its {noun} '{what}' has been deleted",
    "variant_of": "The template part '{what}' it is a variant of has been deleted",
    "revision_of": "The part '{what}' it is a revision of has been deleted",
}

# What an undelete does not bring back, per model (shown on the preview).
NOT_RESTORED = {
    "inventory.part": "Its parameters, BOM lines and supplier and manufacturer parts were "
    "deleted with it and are not restored.",
    "inventory.partcategory": "Sub-categories and parts that moved up to its parent when it "
    "was deleted stay where they are.",
    "inventory.stocklocation": "Sub-locations and stock items that moved up to its parent when "
    "it was deleted stay where they are; its owners (object permissions) are not restored.",
    "orders.company": "Its contacts, addresses and supplier and manufacturer parts were "
    "deleted with it and are not restored.",
}

_PATH_DEPTH = 30  # how far up a chain of deleted parents a path is reconstructed


def is_undeletable(model) -> bool:
    return model._meta.label_lower in UNDELETABLE


def undelete_url(model, object_id) -> str | None:
    """The admin's undelete page for a deleted object of ``model`` (None if it has none)."""
    if not is_undeletable(model):
        return None
    opts = model._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_undelete", args=[object_id])
    except NoReverseMatch:
        return None


@dataclass
class Problem:
    """Why the object cannot be restored now, and the object in the way (to link to)."""

    message: str
    obj: models.Model | None = None  # the existing object holding the key
    restore_first: tuple | None = None  # (model, pk) of a deleted object to restore first


@dataclass
class UndeletePlan:
    model: type
    object_id: object
    current: models.Model | None = None  # the object, if it was never deleted (or is back)
    record: object = None  # the deletion record ("-"), if there is one
    instance: models.Model | None = None  # what would be saved
    values: list = field(default_factory=list)  # [(label, shown value)] to be restored
    problems: list = field(default_factory=list)  # [Problem]: refused
    notes: list = field(default_factory=list)  # what is left empty or not restored
    cleared: list = field(default_factory=list)  # link fields left empty
    permitted: bool = True
    permission_message: str = ""

    @property
    def noun(self) -> str:
        return str(self.model._meta.verbose_name)

    @property
    def ok(self) -> bool:
        return self.record is not None and self.permitted and not self.problems

    def reason(self) -> str:
        """History reason of the undelete."""
        deleted = timezone.localtime(self.record.history_date).strftime("%Y-%m-%d %H:%M")
        deleter = f" (deleted by {self.record.history_user})" if self.record.history_user_id else ""
        return f"Restored after deletion of {deleted}{deleter}"[:100]


# --------------------------------------------------------------------- reading the history


def deletion_record(model, object_id):
    """The last historical record of ``model`` #``object_id`` if it is a deletion, else None."""
    history_model = get_history_model_for_model(model)
    try:
        record = (
            history_model._default_manager.select_related("history_user")
            .filter(**{model._meta.pk.attname: object_id})
            .order_by("-history_date", "-history_id")
            .first()
        )
    except (ValueError, TypeError, ValidationError):  # "abc" as an id
        return None
    if record is None or record.history_type != "-":
        return None
    return record


def describe_deleted(model, pk, depth: int = 0) -> str:
    """A deleted object as users know it: a tree node's path ("Electronics/Passives"),
    else its name at deletion; "#<id>" when its history says nothing."""
    try:
        history_model = get_history_model_for_model(model)
    except Exception:  # not tracked (users)
        return f"#{pk}"
    record = (
        history_model._default_manager.filter(**{model._meta.pk.attname: pk})
        .order_by("-history_date", "-history_id")
        .first()
    )
    if record is None:
        return f"#{pk}"
    if issubclass(model, TreeNode) and record.parent_id and depth < _PATH_DEPTH:
        parent = model._default_manager.filter(pk=record.parent_id).first()
        above = (
            parent.pathstring if parent else describe_deleted(model, record.parent_id, depth + 1)
        )
        return f"{above}/{record.name}"
    return str(record.instance)


def _link_fields(model):
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.ForeignKey) and not f.primary_key
    ]


def _tracked_fields(model):
    """The fields the history records (and an undelete restores), in form order."""
    history_model = get_history_model_for_model(model)
    tracked = {f.attname for f in history_model._meta.concrete_fields}
    return [f for f in model._meta.concrete_fields if f.attname in tracked and not f.primary_key]


# --------------------------------------------------------------------- natural keys


def _where(model, parent_id) -> str:
    if parent_id is None:
        return "at the top level"
    parent = model._default_manager.filter(pk=parent_id).first()
    return f"in '{parent.pathstring}'" if parent else "under its (deleted) parent"


def _tree_conflicts(obj) -> list[Problem]:
    model = type(obj)
    other = model._default_manager.filter(parent_id=obj.parent_id, name__iexact=obj.name).first()
    if other is None:
        return []
    noun = model._meta.verbose_name
    return [
        Problem(
            f"A {noun} named '{other.name}' exists {_where(model, obj.parent_id)}: "
            f"{other.pathstring}; rename it first.",
            other,
        )
    ]


def _part_conflicts(part) -> list[Problem]:
    from inventory.models import Part

    if part.ipn:
        other = Part.objects.filter(ipn__iexact=part.ipn).first()
        if other is not None:
            return [Problem(f"A part with IPN {part.ipn} exists: {other}; rename it first.", other)]
    other = Part.objects.filter(name=part.name, ipn=part.ipn, revision=part.revision).first()
    if other is not None:
        revision = f" and revision '{part.revision}'" if part.revision else ""
        return [
            Problem(
                f"A part named '{part.name}'{revision} exists: {other}; rename it first.", other
            )
        ]
    return []


def _name_conflicts(obj) -> list[Problem]:
    model = type(obj)
    other = model._default_manager.filter(name__iexact=obj.name).first()
    if other is None:
        return []
    noun = model._meta.verbose_name
    return [Problem(f"A {noun} named '{other.name}' exists: {other}; rename it first.", other)]


def _conflicts(obj) -> list[Problem]:
    if isinstance(obj, TreeNode):
        return _tree_conflicts(obj)
    if obj._meta.label_lower == "inventory.part":
        return _part_conflicts(obj)
    return _name_conflicts(obj)


# --------------------------------------------------------------------- the plan


def _check_links(plan: UndeletePlan) -> None:
    obj = plan.instance
    for link in _link_fields(plan.model):
        target_id = getattr(obj, link.attname)
        if target_id is None:
            continue
        target_model = link.related_model
        if target_model._base_manager.filter(pk=target_id).exists():
            continue
        what = describe_deleted(target_model, target_id)
        label = link.verbose_name
        if link.name in REQUIRED_LINKS:
            gone = _REQUIRED_PHRASES[link.name].format(
                noun=target_model._meta.verbose_name, what=what
            )
            plan.problems.append(
                Problem(
                    f"{gone}: restore {what} first.",
                    restore_first=(target_model, target_id),
                )
            )
        else:
            setattr(obj, link.attname, None)
            plan.cleared.append(link.name)
            plan.notes.append(f"{capfirst(label)} '{what}' no longer exists and is left empty.")


def _check_permission(plan: UndeletePlan, user) -> None:
    if not user_may(user, "add", model=plan.model):
        plan.permitted = False
        plan.permission_message = f"You may not add {plan.model._meta.verbose_name_plural}."
        return
    obj = plan.instance
    if isinstance(obj, TreeNode) and obj.parent_id:
        parent = plan.model._default_manager.filter(pk=obj.parent_id).first()
        if parent is not None and not object_rules_allow(user, parent):
            plan.permitted = False
            plan.permission_message = (
                f"You do not own '{parent.pathstring}' (or the owned location above it), "
                "so you cannot restore an entry into it."
            )


def _shown(obj, f) -> str:
    if isinstance(f, models.ForeignKey):
        target_id = getattr(obj, f.attname)
        if target_id is None:
            return "—"
        target = f.related_model._base_manager.filter(pk=target_id).first()
        return str(target) if target is not None else describe_deleted(f.related_model, target_id)
    value = getattr(obj, f.attname)
    if f.choices:
        return str(getattr(obj, f"get_{f.name}_display")())
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value in (None, ""):
        return "—"
    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def plan_undelete(*, model, object_id, user) -> UndeletePlan:
    """What restoring ``model`` #``object_id`` would do, and why it would be refused; nothing
    is written."""
    if not is_undeletable(model):
        raise ValueError(f"{model._meta.label} cannot be undeleted")
    plan = UndeletePlan(model=model, object_id=object_id)
    try:
        plan.current = model._default_manager.filter(pk=object_id).first()
    except (ValueError, TypeError, ValidationError):
        return plan  # not an id: nothing to restore
    if plan.current is not None:
        return plan
    plan.record = deletion_record(model, object_id)
    if plan.record is None:
        return plan
    obj = plan.record.instance
    obj._state.adding = True
    plan.instance = obj
    _check_permission(plan, user)
    _check_links(plan)
    plan.problems[:0] = _conflicts(obj)
    plan.values = [
        (str(f.verbose_name), _shown(obj, f))
        for f in _tracked_fields(model)
        if f.editable or f.name == "created_at"
    ]
    if model._meta.label_lower in NOT_RESTORED:
        plan.notes.append(NOT_RESTORED[model._meta.label_lower])
    if not plan.problems:
        try:  # the model's own rules, as the admin's add form checks them
            obj.full_clean(exclude=_validation_exclusions(model))
        except ValidationError as error:
            plan.problems += [Problem(message) for message in error.messages]
    return plan


# --------------------------------------------------------------------- the undelete


def _validation_exclusions(model) -> list[str]:
    """As the admin's add form: fields it does not edit are not validated (derived paths and
    maintained figures are set by the model's save)."""
    return [f.name for f in model._meta.concrete_fields if not f.editable]


@transaction.atomic
def undelete_object(*, model, object_id, user):
    """Recreate the deleted ``model`` #``object_id`` from its history (same primary key);
    returns it. ``PermissionDenied`` if ``user`` may not; ``ValidationError`` (nothing
    written) if it is not deleted, its key is taken or a link it needs is gone."""
    plan = plan_undelete(model=model, object_id=object_id, user=user)
    noun = plan.noun
    if plan.current is not None:
        raise ValidationError(
            f"The {noun} '{plan.current}' (#{plan.current.pk}) exists: it is not deleted."
        )
    if plan.record is None:
        raise ValidationError(f"There is no deleted {noun} #{object_id} in the history.")
    if not plan.permitted:
        raise PermissionDenied(plan.permission_message)
    if plan.problems:
        raise ValidationError([p.message for p in plan.problems])
    obj = plan.instance  # validated by the plan (full_clean)
    created_at = getattr(obj, "created_at", None)
    try:
        with transaction.atomic():
            save_with_history(obj, user=user, reason=plan.reason(), force_insert=True)
    except IntegrityError:  # taken since the plan was made
        raise ValidationError(
            f"The {noun} could not be restored: it, or another one with the same name, was "
            "created a moment ago. Reload the page to see why."
        ) from None
    if created_at is not None and hasattr(obj, "created_at") and obj.created_at != created_at:
        # auto_now_add stamped the restore time: keep the original creation date (row and
        # the history record just written)
        model._default_manager.filter(pk=obj.pk).update(created_at=created_at)
        history = get_history_model_for_model(model)._default_manager
        latest = (
            history.filter(**{model._meta.pk.attname: obj.pk})
            .order_by("-history_id")
            .values_list("history_id", flat=True)
            .first()
        )
        history.filter(history_id=latest).update(created_at=created_at)
        obj.created_at = created_at
    return obj
