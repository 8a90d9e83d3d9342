"""Order references from configurable patterns such as ``PO-{ref:04d}``.

A pattern is Python format syntax with one required ``{ref}`` placeholder
(optionally with a format spec) and literal text. The next reference is the
highest number in use plus one; ``reference_int`` (the first integer in the
reference) is stored for sorting and for finding that number.
"""

import re
import string

from django.core.exceptions import ValidationError

PATTERN_FIELDS = {"ref"}


def check_pattern(pattern: str) -> None:
    """Refuse a pattern without exactly one ``{ref}`` or with other placeholders."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
    except ValueError as exc:
        raise ValidationError(f"Reference pattern {pattern!r} is not valid: {exc}.") from None
    if fields.count("ref") != 1 or set(fields) - PATTERN_FIELDS:
        raise ValidationError(
            f"Reference pattern {pattern!r} must contain exactly one {{ref}} placeholder."
        )


def pattern_regex(pattern: str) -> re.Pattern:
    """A regex matching references made from ``pattern`` (zero-padding not enforced)."""
    check_pattern(pattern)
    parts = []
    for literal, field, _spec, _conv in string.Formatter().parse(pattern):
        parts.append(re.escape(literal).replace(r"\?", "."))
        if field == "ref":
            parts.append(r"(?P<ref>\d+)")
    return re.compile("^" + "".join(parts) + "$")


def reference_int(reference: str) -> int:
    """The first integer in a reference ("PO-0042" → 42), clipped to 2^31-1; 0 if none."""
    match = re.search(r"\d+", reference or "")
    return min(int(match.group()), 2**31 - 1) if match else 0


def validate_reference(reference: str, pattern: str) -> None:
    if not pattern_regex(pattern).match(reference or ""):
        example = pattern.format(ref=1)
        raise ValidationError(
            {"reference": f"Reference {reference!r} does not match the pattern (e.g. {example})."}
        )


def next_reference(model, pattern: str) -> str:
    """The highest reference number in use for ``model`` plus one, formatted by ``pattern``."""
    check_pattern(pattern)
    highest = (
        model.objects.order_by("-reference_int").values_list("reference_int", flat=True).first()
        or 0
    )
    return pattern.format(ref=highest + 1)
