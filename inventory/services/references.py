"""References such as ``PO-0042`` or ``BO-0007``: one mechanism for every numbered model.

Purchase, sales and return orders (``orders``) and build orders (``builds``) all have a
unique ``reference`` rendered from a configurable pattern and its number in
``reference_int``. This module is shared by both apps (it lives in ``inventory`` because
``orders`` and ``builds`` may import ``inventory`` but not each other).

A pattern is text with exactly one ``{ref}`` field, optionally zero-padded
(``{ref:04d}``), e.g. ``PO-{ref:04d}`` or ``WO{ref}-A``. A reference must be exactly what
the pattern makes of its number (``PO-0042``, not ``PO-42``), so no two references share a
number.

Allocation is serialised per model: ``save_with_reference`` takes a lock for the model
inside the caller's transaction (PostgreSQL: ``pg_advisory_xact_lock``, released at commit;
SQLite: the IMMEDIATE transactions configured in ``config/env.py`` already let one writer
at a time in), then reads the highest number and inserts. Concurrent creations therefore
get distinct, contiguous numbers without errors. Rows inserted without the lock (imports,
fixtures) can still collide; the unique constraint catches that and the next number is
tried, while a reference the user typed that is taken gives a clear field error.
"""

import hashlib
import re
import string
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Max

_SPEC = re.compile(r"^(0[1-9]|01[0-2])?d?$")  # zero-padded to at most 12 digits
# reference_int is a PositiveIntegerField (PostgreSQL integer)
MAX_REFERENCE_NUMBER = 2**31 - 1
RETRIES = 5


@dataclass(frozen=True)
class ReferencePattern:
    prefix: str
    suffix: str
    spec: str
    text: str = ""

    def format(self, number: int) -> str:
        return f"{self.prefix}{format(number, self.spec or 'd')}{self.suffix}"

    @property
    def example(self) -> str:
        return self.format(1)

    def number_of(self, reference: str) -> int | None:
        """The number inside ``reference``, or None when it does not follow the pattern."""
        match = re.fullmatch(re.escape(self.prefix) + r"(\d+)" + re.escape(self.suffix), reference)
        return int(match.group(1)) if match else None


def parse_pattern(pattern: str) -> ReferencePattern:
    """Validate a reference pattern; raises ValueError saying what is wrong."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise ValueError("the pattern is empty; use something like PO-{ref:04d}")
    try:
        pieces = list(string.Formatter().parse(pattern))
    except ValueError as error:
        raise ValueError(f"{pattern!r} is not a valid pattern ({error})") from None
    fields = [(name, spec, conversion) for _, name, spec, conversion in pieces if name is not None]
    if [name for name, _, _ in fields] != ["ref"]:
        raise ValueError(f"{pattern!r} must contain exactly one {{ref}} field and no other fields")
    _, spec, conversion = fields[0]
    if conversion or not _SPEC.match(spec or ""):
        raise ValueError(
            f"{pattern!r}: the {{ref}} field may only be zero-padded, e.g. {{ref}} or {{ref:04d}}"
        )
    prefix, suffix, seen = "", "", False
    for literal, name, _, _ in pieces:
        if seen:
            suffix += literal
        else:
            prefix += literal
        if name is not None:
            seen = True
    if len(prefix) + len(suffix) > 40:
        raise ValueError(
            f"{pattern!r}: the text around {{ref}} is too long (at most 40 characters)"
        )
    return ReferencePattern(prefix=prefix, suffix=suffix, spec=spec or "", text=pattern)


def reference_int(reference: str) -> int:
    """The first integer in a reference ("PO-0042" → 42), clipped to 2^31-1; 0 if none.

    Used for rows saved without the allocator (imports, fixtures)."""
    match = re.search(r"\d+", reference or "")
    return min(int(match.group()), MAX_REFERENCE_NUMBER) if match else 0


def lock_references(model) -> None:
    """Serialise reference allocation for ``model`` until the current transaction ends.

    PostgreSQL: a transaction-level advisory lock keyed by the model's label (the same
    key in every process). SQLite: nothing to do, IMMEDIATE transactions already hold the
    database's write lock from their first statement.
    """
    connection = connections[router.db_for_write(model)]
    if not connection.in_atomic_block:
        raise RuntimeError("lock_references() must be called inside transaction.atomic()")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(model)])


def lock_key(model) -> int:
    """A stable signed 64-bit advisory-lock key for ``model`` ("orders.purchaseorder")."""
    label = f"stockroom.reference:{model._meta.label_lower}".encode()
    return int.from_bytes(hashlib.blake2b(label, digest_size=8).digest(), "big", signed=True)


def next_reference(model, pattern: ReferencePattern) -> tuple[str, int]:
    """The next reference and its number: the highest number in use plus one.

    Only reliable under ``lock_references``; without it, it is a preview (form help text).
    """
    highest = model._default_manager.aggregate(m=Max("reference_int"))["m"] or 0
    if highest >= MAX_REFERENCE_NUMBER:
        raise ValidationError(
            {"reference": f"No reference number is left after {pattern.format(highest)}."}
        )
    return pattern.format(highest + 1), highest + 1


def check_reference(model, reference: str, pattern: ReferencePattern, *, exclude_pk=None):
    """Check a reference a user typed; returns it (stripped) and its number.

    The format is checked always; whether it is taken is final only under
    ``lock_references``.
    """
    reference = (reference or "").strip()
    number = pattern.number_of(reference)
    if number is None or (number <= MAX_REFERENCE_NUMBER and pattern.format(number) != reference):
        raise ValidationError(
            {
                "reference": f"Reference '{reference}' does not match the pattern "
                f"(e.g. {pattern.example})."
            }
        )
    if number > MAX_REFERENCE_NUMBER:
        raise ValidationError({"reference": f"The number in '{reference}' is too large."})
    taken = model._default_manager.filter(reference=reference)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"reference": _taken_message(model, reference)})
    return reference, number


def _taken_message(model, reference: str) -> str:
    return f"{model._meta.verbose_name.capitalize()} {reference} already exists."


def save_with_reference(obj, *, pattern: ReferencePattern, save, reference=None):
    """Give the new ``obj`` its reference (``reference`` as typed, else the next free one)
    and ``save()`` it, all under the model's reference lock.

    Call inside ``transaction.atomic()``; ``save`` inserts ``obj`` (e.g. with history).
    A typed reference that is taken raises a ValidationError on ``reference``.
    """
    model = type(obj)
    typed = bool(reference and str(reference).strip())
    if typed:
        check_reference(model, reference, pattern)  # format first, before waiting for the lock
    lock_references(model)
    for attempt in range(RETRIES):
        if typed:
            obj.reference, obj.reference_int = check_reference(model, reference, pattern)
        else:
            obj.reference, obj.reference_int = next_reference(model, pattern)
        try:
            with transaction.atomic(using=router.db_for_write(model)):
                save()
            return obj
        except IntegrityError:
            # Only a row inserted without the lock (import, fixture) can get here.
            obj.pk = None
            if not model._default_manager.filter(reference=obj.reference).exists():
                raise  # another constraint: not ours to explain
            if typed:
                raise ValidationError({"reference": _taken_message(model, obj.reference)}) from None
            if attempt == RETRIES - 1:
                raise ValidationError(
                    "Could not allocate a free reference; please try again."
                ) from None
    raise AssertionError("unreachable")  # pragma: no cover
