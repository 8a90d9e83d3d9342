"""BOM services for spreadsheet imports: many lines of one assembly in one call.

The same rules as ``builds.services.bom`` (which these reuse), checked once per assembly
instead of once per line, so a 10,000-line BOM imports in seconds:

- the assembly must not be locked (also through a locked variant for inherited lines, R15);
- no recursion (R11): one breadth-first search for all new components and substitutes;
- each line's own rules (``BomItem.clean``: assembly, component, quantity, overage) and each
  substitute's (``BomItemSubstitute.clean``);
- a changed key field (component, quantity, references, flags) clears ``validated`` (R14);
- trackable components make the assembly trackable, up the tree (R7), and open build orders
  of the assembly follow the BOM (R20).

History rows are written in bulk, attributed to ``user`` with ``reason`` (plus the current
``history_reason_suffix``, e.g. " (import #12)").
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from builds.models import BomItem, BomItemSubstitute
from builds.services.bom import (
    _lock_parts,
    _propagate_trackable,
    _users_of_line,
    check_bom_recursion,
    check_bom_unlocked,
)
from inventory.history_signals import bulk_create_with_history, bulk_history_create
from inventory.models import Part
from inventory.services.common import delete_with_history, save_with_history, with_reason_suffix

BATCH = 500


@dataclass
class BomLineChange:
    """One line to write: ``item`` is a new BomItem (no pk) or an existing one with the new
    values set; ``substitutes`` (parts) replaces the line's substitutes when not None."""

    item: BomItem
    substitutes: list | None = None
    key: object = None  # the caller's handle (e.g. the spreadsheet row number), for errors
    fields: list[str] = field(default_factory=list)  # changed fields of an existing line


class BomLineError(ValidationError):
    """A line was refused; ``key`` is the ``BomLineChange.key`` of the line."""

    def __init__(self, message, *, key):
        super().__init__(message)
        self.key = key


def _clean(change: BomLineChange) -> None:
    try:
        # the foreign keys are resolved instances (no existence query per line); the
        # quantity constraint is part of clean()
        change.item.full_clean(exclude=["part", "sub_part"], validate_constraints=False)
    except ValidationError as error:
        message = error.messages[0] if error.messages else "This line is not valid."
        raise BomLineError(message, key=change.key) from None


@transaction.atomic
def bom_lines_import(*, part, changes: list[BomLineChange], user, reason: str = "Imported"):
    """Create and update many lines of ``part``'s BOM (all or nothing).

    Raises ``BomLineError`` (with the failing change's ``key``) or ``ValidationError`` for a
    rule of the whole assembly (locked). Returns the saved items.
    """
    if not changes:
        return []
    (part,) = _lock_parts(part)
    existing_ids = [c.item.pk for c in changes if c.item.pk]
    before = {
        line.pk: line
        for line in BomItem.objects.select_for_update().filter(pk__in=existing_ids, part=part)
    }
    inherited = any(c.item.inherited for c in changes) or any(b.inherited for b in before.values())
    check_bom_unlocked(part, inherited=inherited)

    new_parts = []
    for change in changes:
        item = change.item
        if item.pk and item.pk not in before:
            raise BomLineError(
                "This BOM line no longer exists (deleted by someone else?).", key=change.key
            )
        item.part = part
        _clean(change)
        old = before.get(item.pk)
        if old is None or old.sub_part_id != item.sub_part_id:
            new_parts.append(item.sub_part)
        if old is not None and item.key_values() != old.key_values():
            item.validated = False
        for substitute in change.substitutes or ():
            if substitute.pk == item.sub_part_id:
                raise BomLineError(
                    f"'{substitute}' is this line's own component: it cannot also be its "
                    "substitute.",
                    key=change.key,
                )
            if not substitute.component:
                raise BomLineError(
                    f"'{substitute}' is not a component, so it cannot be a substitute.",
                    key=change.key,
                )
            new_parts.append(substitute)
    if new_parts:
        try:
            check_bom_recursion(part, new_parts, field=None)
        except ValidationError as error:
            culprit = _culprit(part, changes, new_parts)
            raise BomLineError(error.messages[0], key=culprit) from None

    created = [c.item for c in changes if not c.item.pk]
    updated = [c.item for c in changes if c.item.pk]
    if created:
        created = bulk_create_with_history(
            created,
            BomItem,
            batch_size=BATCH,
            default_user=user,
            default_change_reason=with_reason_suffix(reason),
        )
        by_object = iter(created)
        for change in changes:
            if change.item.pk is None:  # bulk_create returned new objects on SQLite < 3.35
                change.item = next(by_object)
    if updated:
        fields = sorted({name for c in changes if c.item.pk for name in c.fields} | {"validated"})
        _update_rows(updated, fields)
        bulk_history_create(
            BomItem,
            updated,
            batch_size=BATCH,
            update=True,
            default_user=user,
            default_change_reason=with_reason_suffix(reason),
        )
    _replace_substitutes(changes, user=user, reason=reason)

    items = [c.item for c in changes]
    trackable = [i for i in items if i.sub_part.trackable]
    if trackable:
        _propagate_trackable(
            _users_of_line(part, any(i.inherited for i in trackable)),
            user=user,
            because=trackable[0].sub_part,
        )
    from builds.services.build import build_orders_follow_bom  # build services import BOM ones

    build_orders_follow_bom(part_ids=_users_of_line(part, inherited), user=user)
    return items


def _update_rows(items, fields) -> None:
    """One parameterised ``UPDATE … WHERE id = %s`` per line, sent with ``executemany``.

    ``bulk_update`` builds a CASE expression over every row of a batch, whose compilation
    grows with the batch (13 s for 5,000 lines on SQLite); this is linear."""
    model_fields = [BomItem._meta.get_field(name) for name in fields]
    table = connection.ops.quote_name(BomItem._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in model_fields)
    sql = f"UPDATE {table} SET {assignments} WHERE {connection.ops.quote_name('id')} = %s"
    params = [
        [f.get_db_prep_save(getattr(item, f.attname), connection) for f in model_fields] + [item.pk]
        for item in items
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(params), BATCH):
            cursor.executemany(sql, params[start : start + BATCH])


def _culprit(part, changes, new_parts):
    """The change whose component (or substitute) makes the loop: re-check one by one
    (only after the combined check failed, so the normal path stays one search)."""
    for change in changes:
        parts = [change.item.sub_part, *(change.substitutes or ())]
        try:
            check_bom_recursion(part, parts, field=None)
        except ValidationError:
            return change.key
    return changes[0].key


def _replace_substitutes(changes, *, user, reason) -> None:
    wanted = {
        c.item.pk: {p.pk: p for p in c.substitutes} for c in changes if c.substitutes is not None
    }
    if not wanted:
        return
    current = BomItemSubstitute.objects.filter(bom_item_id__in=list(wanted)).select_related("part")
    have: dict[int, set[int]] = {pk: set() for pk in wanted}
    for substitute in current:
        if substitute.part_id in wanted[substitute.bom_item_id]:
            have[substitute.bom_item_id].add(substitute.part_id)
        else:
            delete_with_history(substitute, user=user, reason=with_reason_suffix(reason))
    new = [
        BomItemSubstitute(bom_item_id=line_id, part=part)
        for line_id, parts in wanted.items()
        for pk, part in parts.items()
        if pk not in have[line_id]
    ]
    if new:
        bulk_create_with_history(
            new,
            BomItemSubstitute,
            batch_size=BATCH,
            default_user=user,
            default_change_reason=with_reason_suffix(reason),
        )


@transaction.atomic
def bom_sub_part_create(*, part: Part, user, reason: str, manufacturer=None, mpn: str = ""):
    """Save a new component an import prepared ("create missing sub-parts"): validated as
    any part, ``created_by`` the importer; with ``manufacturer`` + ``mpn`` also its
    manufacturer part (through the company service's rules)."""
    if part.pk is not None:
        return part
    part.created_by = user if getattr(user, "pk", None) else None
    part.full_clean(exclude=["category", "variant_of", "revision_of"])
    save_with_history(part, user=user, reason=with_reason_suffix(reason))
    if manufacturer is not None and mpn:
        from orders.models import ManufacturerPart  # orders builds on inventory, not on builds
        from orders.services.companies import manufacturer_part_save

        manufacturer_part_save(
            manufacturer_part=ManufacturerPart(part=part, manufacturer=manufacturer, mpn=mpn),
            user=user,
        )
    return part


__all__ = ["BomLineChange", "BomLineError", "bom_lines_import", "bom_sub_part_create"]
