"""Build order references: ``BO-0001``, ``BO-0002``… from the pattern in BUILD_REFERENCE_PATTERN.

The mechanism (pattern syntax, next number, serialised allocation) is the one every order
uses, ``inventory.services.references``; this module only supplies the build's setting and
reports an unusable one in ``manage.py check``.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from builds.models import BuildOrder
from inventory.services import references
from inventory.services.references import ReferencePattern, parse_pattern

DEFAULT_PATTERN = "BO-{ref:04d}"


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


def next_reference() -> tuple[str, int]:
    """The next reference and its number (a preview outside ``save_with_reference``)."""
    return references.next_reference(BuildOrder, reference_pattern())


def validate_reference(reference: str, *, exclude_pk=None) -> tuple[str, int]:
    """Check a reference a user typed; returns it (stripped) and its number."""
    return references.check_reference(
        BuildOrder, reference, reference_pattern(), exclude_pk=exclude_pk
    )


def save_with_reference(build, save, reference=None) -> BuildOrder:
    """Give the new ``build`` its reference (typed or the next free one) and ``save()`` it,
    serialised with every other build creation (see inventory.services.references)."""
    return references.save_with_reference(
        build, pattern=reference_pattern(), save=save, reference=reference
    )
