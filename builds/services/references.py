"""Build order references: ``BO-0001``, ``BO-0002``… from the pattern in BUILD_REFERENCE_PATTERN.

A pattern is text with exactly one ``{ref}`` field, optionally zero-padded
(``{ref:04d}``), e.g. ``BO-{ref:04d}`` or ``WO{ref}-A``. The number of every
reference is stored in ``BuildOrder.reference_int``; the next reference is the
highest number in use plus one. Two builds created at the same moment may pick
the same number: ``build_order_create`` then retries with the next one (the
reference column is unique), see ``save_with_new_reference``.
"""

import re
import string
from dataclasses import dataclass

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from builds.models import BuildOrder

DEFAULT_PATTERN = "BO-{ref:04d}"
_SPEC = re.compile(r"^(0[1-9]|01[0-2])?d?$")  # zero-padded to at most 12 digits
# reference_int is a PositiveIntegerField (PostgreSQL integer)
MAX_REFERENCE_NUMBER = 2**31 - 1
RETRIES = 5


@dataclass(frozen=True)
class ReferencePattern:
    prefix: str
    suffix: str
    spec: str

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
        raise ValueError("the pattern is empty; use something like BO-{ref:04d}")
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
    return ReferencePattern(prefix=prefix, suffix=suffix, spec=spec or "")


def reference_pattern() -> ReferencePattern:
    """The configured pattern (setting BUILD_REFERENCE_PATTERN, default ``BO-{ref:04d}``)."""
    raw = getattr(settings, "BUILD_REFERENCE_PATTERN", DEFAULT_PATTERN)
    try:
        return parse_pattern(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"BUILD_REFERENCE_PATTERN: {error}") from None


@checks.register(checks.Tags.compatibility)
def check_reference_pattern(app_configs=None, **kwargs):
    """``manage.py check`` reports an unusable BUILD_REFERENCE_PATTERN."""
    try:
        reference_pattern()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="builds.E001")]
    return []


def next_reference_number() -> int:
    highest = BuildOrder.objects.aggregate(m=Max("reference_int"))["m"]
    return (highest or 0) + 1


def next_reference() -> tuple[str, int]:
    """The next free reference and its number: the highest number in use plus one."""
    number = next_reference_number()
    return reference_pattern().format(number), number


def validate_reference(reference: str, *, exclude_pk=None) -> tuple[str, int]:
    """Check a reference a user typed; returns it (stripped) and its number."""
    pattern = reference_pattern()
    reference = (reference or "").strip()
    number = pattern.number_of(reference)
    if number is None or (number <= MAX_REFERENCE_NUMBER and pattern.format(number) != reference):
        raise ValidationError(
            {
                "reference": f"'{reference}' does not follow the reference pattern "
                f"(e.g. {pattern.example})."
            }
        )
    if number > MAX_REFERENCE_NUMBER:
        raise ValidationError({"reference": f"The number in '{reference}' is too large."})
    taken = BuildOrder.objects.filter(reference=reference)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"reference": f"Build order {reference} already exists."})
    return reference, number


def save_with_new_reference(build, save) -> None:
    """Give ``build`` the next reference and ``save()`` it, retrying if another
    transaction took the same number in the meantime (unique constraint)."""
    for attempt in range(RETRIES):
        build.reference, build.reference_int = next_reference()
        try:
            with transaction.atomic():
                save()
            return
        except IntegrityError:
            if (
                attempt == RETRIES - 1
                or not BuildOrder.objects.filter(reference=build.reference).exists()
            ):
                raise
            build.pk = None
    raise AssertionError("unreachable")  # pragma: no cover
