"""Part and category services."""

from django.db import transaction

from inventory.models import Part, PartCategory
from inventory.services.common import (
    delete_with_history,
    lock,
    prepare_tree_node_delete,
    save_with_history,
)


@transaction.atomic
def part_category_delete(*, category, user) -> None:
    """Delete a category; its sub-categories and parts move up to its parent (or to none)."""
    category = lock(PartCategory, category.pk)
    parent = category.parent
    prepare_tree_node_delete(
        category, members_exist=Part.objects.filter(category=category).exists(), members="parts"
    )
    for child in category.children.all():
        child.parent = parent
        save_with_history(child, user=user, reason=f"Parent category {category.name} deleted")
    for part in Part.objects.filter(category=category):
        part.category = parent
        save_with_history(part, user=user, reason=f"Category {category.name} deleted")
    delete_with_history(category, user=user, reason="Deleted")


@transaction.atomic
def part_update(*, part, user, reason: str, **changes) -> bool:
    """Change plain fields of a part (active, category, minimum stock…); False if nothing changed.

    Validation is the model's (``full_clean``): a virtual part cannot become trackable, the
    category must not be structural, and so on.
    """
    part = lock(Part, part.pk)
    changed = {name: value for name, value in changes.items() if getattr(part, name) != value}
    if not changed:
        return False
    for name, value in changed.items():
        setattr(part, name, value)
    part.full_clean()
    save_with_history(part, user=user, reason=reason)
    return True
