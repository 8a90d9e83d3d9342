"""BOM services: every change to a bill of materials.

Each function is keyword-only and atomic, re-reads the rows it changes under a row
lock, validates (the model's ``clean()`` for same-row rules; here the rules that span
rows) and raises ``ValidationError`` with a message a back-office user understands,
changing nothing, and attributes the history records to ``user``.

Rules enforced here (see docs/boms.md):
- no recursion (R11): a part can never end up in its own BOM — directly, through
  sub-assemblies or substitutes at any depth, or through its variant family;
- locked assemblies refuse BOM edits (R15), also for inherited lines when a variant
  of the assembly is locked;
- a trackable component makes the assembly trackable, and every assembly above it (R7);
- a line used by an active build order cannot be deleted.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from builds.choices import ACTIVE_BUILD_STATUSES
from builds.models import BomItem, BomItemSubstitute, BuildLine
from builds.selectors.bom import (
    bom_checksum,
    bom_lines,
    find_bom_recursion,
    variant_ids,
)
from inventory.history_signals import bulk_create_with_history, bulk_update_with_history
from inventory.models import Part
from inventory.services.common import (
    delete_with_history,
    fmt,
    lock,
    save_with_history,
    to_quantity,
)

# what bom_item_update may change (moving a line to another assembly is not an edit)
EDITABLE_FIELDS = (
    "sub_part",
    "quantity",
    "reference",
    "overage",
    "optional",
    "consumable",
    "allow_variants",
    "inherited",
    "note",
)


# ---------------------------------------------------------------------------
# Checks shared by the services (and by the admin forms, through dry runs)


def check_bom_unlocked(part, *, inherited: bool = False) -> None:
    """Refuse a BOM change on a locked assembly; for an inherited line, also when one of
    the assembly's variants (which share the line) is locked (R15)."""
    if part.locked:
        raise ValidationError(
            f"'{part}' is locked: its BOM cannot be changed. Unlock the part first."
        )
    if inherited:
        locked = Part.objects.filter(pk__in=variant_ids(part), locked=True).first()
        if locked is not None:
            raise ValidationError(
                f"This line is inherited by '{locked}', which is locked: the line cannot be "
                "changed. Unlock the variant first."
            )


def check_bom_recursion(part, sub_parts, *, field: str | None = "sub_part") -> None:
    """Refuse using any of ``sub_parts`` in ``part``'s BOM when that would make a loop."""
    sub_parts = list(sub_parts)
    loop = find_bom_recursion(part.pk, [p.pk for p in sub_parts])
    if loop is None:
        return
    message = _loop_message(part, loop)
    raise ValidationError({field: message} if field else message)


def _loop_message(part, loop: list[int]) -> str:
    if len(loop) == 2:
        return f"'{part}' cannot be used in its own BOM."
    parts = Part.objects.in_bulk(set(loop))
    text, family = str(parts[loop[0]]), False
    for a, b in zip(loop, loop[1:], strict=False):
        if parts[a].variant_of_id == b or parts[b].variant_of_id == a:
            text, family = f"{text} ↔ {parts[b]}", True
        else:
            text = f"{text} → {parts[b]}"
    note = " (↔: same variant family)" if family else ""
    return (
        f"'{parts[loop[1]]}' cannot be used in the BOM of '{part}': the BOM would contain "
        f"itself: {text}{note}."
    )


def _propagate_trackable(part_ids, *, user, because) -> None:
    """Make these parts trackable, and every assembly that uses them, up the tree (R7).

    Assemblies using a part through an inherited line include that assembly's variants.
    Refused when one of them is virtual, or uses a part that is now trackable in a
    fractional quantity. One or two queries per level, plus one save per part that changes.
    """
    seen, frontier = set(), set(part_ids)
    while frontier:
        seen |= frontier
        for part in Part.objects.filter(pk__in=frontier, trackable=False):
            if part.virtual:
                raise ValidationError(
                    f"'{part}' is virtual, so it cannot become trackable: it cannot use the "
                    f"trackable part '{because}'."
                )
            part.trackable = True
            save_with_history(
                part,
                user=user,
                reason=f"Made trackable: its BOM uses trackable '{because}'",
                update_fields=["trackable"],
            )
        above, inherited = set(), set()
        rows = BomItem.objects.filter(sub_part_id__in=frontier).values_list(
            "pk", "part_id", "inherited", "quantity"
        )
        for pk, assembly_id, is_inherited, quantity in rows:
            if quantity % 1:
                line = BomItem.objects.select_related("part", "sub_part").get(pk=pk)
                raise ValidationError(
                    f"'{line.part}' uses {fmt(quantity)} × '{line.sub_part}', which would "
                    "become trackable: a trackable part needs a whole quantity. Change that "
                    "line first."
                )
            above.add(assembly_id)
            if is_inherited:
                inherited.add(assembly_id)
        if inherited:
            above |= set(variant_ids(*inherited))
        frontier = above - seen


def _lock_parts(*parts) -> list:
    """Lock parts in id order and return them fresh, in the order given. Locking both ends
    of a new BOM edge serialises two opposite edits (A into B, B into A) so the second one's
    recursion check sees the first."""
    ids = [getattr(p, "pk", p) for p in parts]
    locked = {pk: lock(Part, pk) for pk in sorted(set(ids))}
    return [locked[pk] for pk in ids]


def _users_of_line(part, inherited: bool) -> list[int]:
    """The assemblies a line of ``part`` applies to: ``part``, and its variants if inherited."""
    return [part.pk, *variant_ids(part)] if inherited else [part.pk]


def _open_builds_follow(item, user) -> None:
    """Open build orders of the assemblies this line applies to take the change (R20)."""
    from builds.services.build import build_orders_follow_bom  # build services import BOM selectors

    build_orders_follow_bom(part_ids=_users_of_line(item.part, item.inherited), user=user)


def _fresh(model, obj, field: str):
    """Re-read ``obj`` (it may have changed since the form was shown)."""
    found = model.objects.filter(pk=getattr(obj, "pk", obj)).first()
    if found is None:
        raise ValidationError({field: f"This {model._meta.verbose_name} no longer exists."})
    return found


def check_bom_item_deletable(item) -> None:
    """Refuse deleting a line of a locked assembly or one an active build order uses."""
    check_bom_unlocked(item.part, inherited=item.inherited)
    line = (
        BuildLine.objects.filter(bom_item=item, build__status__in=ACTIVE_BUILD_STATUSES)
        .select_related("build")
        .first()
    )
    if line is not None:
        raise ValidationError(
            f"This line is used by build order {line.build.reference}, which is still active: "
            "complete or cancel it first."
        )


# ---------------------------------------------------------------------------
# BOM lines


@transaction.atomic
def bom_item_create(
    *,
    part,
    sub_part,
    quantity,
    user,
    reference: str = "",
    overage: str = "",
    optional: bool = False,
    consumable: bool = False,
    allow_variants: bool = False,
    inherited: bool = False,
    note: str = "",
) -> BomItem:
    """Add a line to ``part``'s BOM. Duplicate lines for the same component are allowed."""
    part, sub_part = _lock_parts(part, sub_part)
    check_bom_unlocked(part, inherited=inherited)
    item = BomItem(
        part=part,
        sub_part=sub_part,
        quantity=to_quantity(quantity),
        reference=reference or "",
        overage=overage or "",
        optional=optional,
        consumable=consumable,
        allow_variants=allow_variants,
        inherited=inherited,
        note=note or "",
    )
    item.full_clean()
    check_bom_recursion(part, [sub_part])
    save_with_history(item, user=user, reason="Added to BOM")
    if sub_part.trackable:
        _propagate_trackable(_users_of_line(part, item.inherited), user=user, because=sub_part)
    _open_builds_follow(item, user)
    return item


@transaction.atomic
def bom_item_update(*, bom_item, user, **changes) -> BomItem:
    """Change a BOM line's fields (any of ``EDITABLE_FIELDS``). Changing a key field
    (component, quantity, references, flags) clears the line's ``validated`` flag."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"bom_item_update cannot change {', '.join(sorted(unknown))}")
    item = lock(BomItem, bom_item.pk)
    if "sub_part" in changes:
        part, changes["sub_part"] = _lock_parts(item.part_id, changes["sub_part"])
    else:
        part = lock(Part, item.part_id)
    was_inherited = item.inherited
    before_keys = item.key_values()
    before = {name: getattr(item, name) for name in EDITABLE_FIELDS}
    for name, value in changes.items():
        if name == "quantity":
            value = to_quantity(value)
        elif name in {"reference", "overage", "note"}:
            value = value or ""
        setattr(item, name, value)
    if {name: getattr(item, name) for name in EDITABLE_FIELDS} == before:
        return item
    check_bom_unlocked(part, inherited=was_inherited or item.inherited)
    item.part = part
    item.full_clean()
    if item.sub_part_id != before["sub_part"].pk:
        if item.substitutes.filter(part_id=item.sub_part_id).exists():
            raise ValidationError(
                {
                    "sub_part": f"'{item.sub_part}' is a substitute on this line: remove the "
                    "substitute first."
                }
            )
        check_bom_recursion(part, [item.sub_part])
    if item.key_values() != before_keys:
        item.validated = False
    save_with_history(item, user=user, reason="BOM line changed")
    _open_builds_follow(item, user)
    if item.sub_part.trackable:
        _propagate_trackable(_users_of_line(part, item.inherited), user=user, because=item.sub_part)
    return item


@transaction.atomic
def bom_item_delete(*, bom_item, user) -> None:
    """Remove a line from its assembly's BOM (with its substitutes)."""
    item = lock(BomItem, bom_item.pk)
    check_bom_item_deletable(item)
    delete_with_history(item, user=user, reason="Removed from BOM")


@transaction.atomic
def bom_propagate_trackable(*, part, user) -> None:
    """After ``part`` became trackable: make every assembly that uses it trackable (R7).

    ``part`` is taken as given (the admin dry-runs this with the flag not yet saved).
    """
    if part.trackable:
        _propagate_trackable([part.pk], user=user, because=part)


# ---------------------------------------------------------------------------
# Copy and validate


@transaction.atomic
def bom_copy(
    *,
    source,
    target,
    user,
    include_inherited: bool = False,
    include_substitutes: bool = True,
    clear: bool = False,
) -> list[BomItem]:
    """Copy ``source``'s BOM lines (and their substitutes) onto ``target``.

    ``include_inherited`` also copies the lines ``source`` inherits from its templates;
    ``clear`` first removes ``target``'s own lines (never lines it inherits). All or
    nothing: if one line cannot be used in ``target``, nothing is copied.
    """
    target = lock(Part, target.pk)
    source = _fresh(Part, source, "source")
    if source.pk == target.pk:
        raise ValidationError({"source": "A part's BOM cannot be copied onto itself."})
    if not target.assembly:
        raise ValidationError(f"'{target}' is not an assembly, so it cannot have a BOM.")
    lines = list(
        bom_lines(source)
        if include_inherited
        else source.bom_items.select_related("part", "sub_part").order_by("sub_part__name", "pk")
    )
    if not lines:
        raise ValidationError({"source": f"'{source}' has no BOM lines to copy."})
    check_bom_unlocked(target, inherited=any(line.inherited for line in lines))
    substitutes = (
        list(BomItemSubstitute.objects.filter(bom_item__in=lines).select_related("part"))
        if include_substitutes
        else []
    )
    check_bom_recursion(
        target, [line.sub_part for line in lines] + [s.part for s in substitutes], field=None
    )
    if clear:
        for old in target.bom_items.all():
            bom_item_delete(bom_item=old, user=user)
    copies = {}
    for line in lines:
        copy = BomItem(
            part=target,
            sub_part=line.sub_part,
            quantity=line.quantity,
            reference=line.reference,
            overage=line.overage,
            optional=line.optional,
            consumable=line.consumable,
            allow_variants=line.allow_variants,
            inherited=line.inherited,
            note=line.note,
        )
        try:
            copy.full_clean(validate_constraints=False)
        except ValidationError as error:
            messages = "; ".join(error.messages)
            raise ValidationError(f"Line '{line}' cannot be copied: {messages}") from None
        copies[line.pk] = copy
    reason = f"Copied from the BOM of {source}"
    created = bulk_create_with_history(
        list(copies.values()), BomItem, default_user=user, default_change_reason=reason
    )
    by_source = dict(zip(copies, created, strict=True))
    if substitutes:
        bulk_create_with_history(
            [
                BomItemSubstitute(bom_item=by_source[s.bom_item_id], part=s.part)
                for s in substitutes
            ],
            BomItemSubstitute,
            default_user=user,
            default_change_reason=reason,
        )
    trackable = [line for line in lines if line.sub_part.trackable]
    if trackable:
        inherited = any(line.inherited for line in trackable)
        _propagate_trackable(
            _users_of_line(target, inherited), user=user, because=trackable[0].sub_part
        )
    if created:
        from builds.services.build import build_orders_follow_bom

        build_orders_follow_bom(
            part_ids=_users_of_line(target, any(c.inherited for c in created)), user=user
        )
    return created


@transaction.atomic
def bom_validate(*, part, user) -> str:
    """Mark the BOM as checked: store its checksum, who and when; flag its own lines
    validated. Any later change to a key field makes the BOM show as not validated."""
    part = lock(Part, part.pk)
    if not part.assembly:
        raise ValidationError(f"'{part}' is not an assembly, so it has no BOM to validate.")
    part.bom_checksum = bom_checksum(part)
    part.bom_checked_by = user if getattr(user, "pk", None) else None
    part.bom_checked_date = timezone.now()
    save_with_history(
        part,
        user=user,
        reason="BOM validated",
        update_fields=["bom_checksum", "bom_checked_by", "bom_checked_date"],
    )
    lines = list(BomItem.objects.filter(part=part, validated=False))
    for line in lines:
        line.validated = True
    if lines:
        bulk_update_with_history(
            lines,
            BomItem,
            ["validated"],
            default_user=user,
            default_change_reason="BOM validated",
        )
    return part.bom_checksum


# ---------------------------------------------------------------------------
# Substitutes


@transaction.atomic
def bom_substitute_add(*, bom_item, part, user) -> BomItemSubstitute:
    """Allow ``part`` to be used instead of the line's component (R12)."""
    item = lock(BomItem, bom_item.pk)
    item.part, part = _lock_parts(item.part_id, part)
    check_bom_unlocked(item.part, inherited=item.inherited)
    substitute = BomItemSubstitute(bom_item=item, part=part)
    substitute.full_clean()
    check_bom_recursion(item.part, [substitute.part], field="part")
    save_with_history(substitute, user=user, reason="Substitute added")
    return substitute


@transaction.atomic
def bom_substitute_remove(*, substitute, user) -> None:
    substitute = lock(BomItemSubstitute, substitute.pk)
    item = substitute.bom_item
    check_bom_unlocked(item.part, inherited=item.inherited)
    delete_with_history(substitute, user=user, reason="Substitute removed")


__all__ = [
    "EDITABLE_FIELDS",
    "bom_copy",
    "bom_item_create",
    "bom_item_delete",
    "bom_item_update",
    "bom_propagate_trackable",
    "bom_substitute_add",
    "bom_substitute_remove",
    "bom_validate",
    "check_bom_item_deletable",
    "check_bom_recursion",
    "check_bom_unlocked",
]
