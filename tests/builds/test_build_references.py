"""Build order references: the configurable pattern, the next number, user-typed references."""

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from builds.models import BuildOrder
from builds.services.references import (
    check_reference_pattern,
    next_reference,
    parse_pattern,
    validate_reference,
)
from inventory.services import references as shared_references
from tests.builds.test_build_support import refused_fixture, shop_fixture, user_fixture  # noqa: F401
from tests.factories import BuildOrderFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("pattern", "number", "text"),
    [
        ("BO-{ref:04d}", 1, "BO-0001"),
        ("BO-{ref:04d}", 12345, "BO-12345"),
        ("BO-{ref}", 7, "BO-7"),
        ("WO{ref:06d}-X", 42, "WO000042-X"),
        ("{ref:03}/B", 5, "005/B"),
        ("{{BO}}-{ref}", 3, "{BO}-3"),
    ],
)
def test_pattern_formats_and_reads_back(pattern, number, text):
    parsed = parse_pattern(pattern)
    assert parsed.format(number) == text
    assert parsed.number_of(text) == number


@pytest.mark.parametrize(
    "pattern",
    ["", "   ", "BO-", "BO-{ref}{ref}", "BO-{x}", "{ref}-{year}", "BO-{ref:>5}", "BO-{ref!r}"]
    + ["BO-{ref", "BO-{ref:.2f}", "BO-{ref:099d}", "x" * 41 + "{ref}"],
)
def test_unusable_patterns_are_refused(pattern):
    with pytest.raises(ValueError):
        parse_pattern(pattern)


def test_number_of_ignores_references_of_another_shape():
    parsed = parse_pattern("BO-{ref:04d}")
    assert parsed.number_of("SO-0001") is None
    assert parsed.number_of("BO-") is None
    assert parsed.number_of("BO-12a") is None


def test_next_reference_is_the_highest_number_in_use_plus_one():
    assert next_reference() == ("BO-0001", 1)
    BuildOrderFactory(reference="BO-0003", reference_int=3)
    BuildOrderFactory(reference="BO-0010", reference_int=10)
    BuildOrderFactory(reference="BO-0004", reference_int=4)
    assert next_reference() == ("BO-0011", 11)


def test_created_builds_number_on(shop):
    first, second = shop.build(1), shop.build(2)
    assert (first.reference, first.reference_int) == ("BO-0001", 1)
    assert (second.reference, second.reference_int) == ("BO-0002", 2)


def test_pattern_comes_from_the_setting(shop, settings):
    settings.BUILD_REFERENCE_PATTERN = "WO{ref:06d}-X"
    BuildOrderFactory(reference="BO-0041", reference_int=41)  # made under the old pattern
    build = shop.build(1)
    assert (build.reference, build.reference_int) == ("WO000042-X", 42)


def test_unusable_setting_is_a_configuration_error(shop, settings):
    settings.BUILD_REFERENCE_PATTERN = "BO-{number}"
    with pytest.raises(ImproperlyConfigured, match="BUILD_REFERENCE_PATTERN"):
        shop.build(1)
    assert not BuildOrder.objects.exists()
    errors = check_reference_pattern()
    assert [e.id for e in errors] == ["builds.E001"]
    settings.BUILD_REFERENCE_PATTERN = "BO-{ref:04d}"
    assert check_reference_pattern() == []


def test_user_typed_reference_sets_the_number(shop):
    build = shop.build(1, reference=" BO-0100 ")
    assert (build.reference, build.reference_int) == ("BO-0100", 100)
    assert shop.build(1).reference == "BO-0101"


@pytest.mark.parametrize("typed", ["SO-0001", "BO-1", "BO-00001", "BO-12x4", "BO-99999999999"])
def test_reference_not_following_the_pattern_is_refused(shop, refused, typed):
    with refused("reference"):
        shop.build(1, reference=typed)


def test_duplicate_reference_is_refused(shop, refused):
    shop.build(1, reference="BO-0005")
    with refused("already exists"):
        shop.build(1, reference="BO-0005")


def test_validate_reference_excludes_the_build_itself(shop):
    build = shop.build(1)
    assert validate_reference("BO-0001", exclude_pk=build.pk) == ("BO-0001", 1)
    with pytest.raises(ValidationError):
        validate_reference("BO-0001")


def test_a_number_taken_concurrently_is_retried(shop, monkeypatch):
    """A row inserted without the reference lock (an import) took the number we read:
    the unique constraint refuses our insert and the next number is used instead."""
    BuildOrderFactory(reference="BO-0001", reference_int=1)
    real = shared_references.next_reference
    calls = []

    def stale_then_real(model, pattern):
        calls.append(1)
        return ("BO-0001", 1) if len(calls) == 1 else real(model, pattern)

    monkeypatch.setattr(shared_references, "next_reference", stale_then_real)
    build = shop.build(1)
    assert (build.reference, build.reference_int) == ("BO-0002", 2)
    assert len(calls) == 2
    assert BuildOrder.objects.count() == 2
    assert build.lines.count() == 2
