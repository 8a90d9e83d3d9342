"""The part list's bulk actions (activate, deactivate, change category, set minimum stock).

Each is a per-object step (``each``), so a large selection runs as a background job.
"""

from django import forms

from admin_customisations.actions import ActionForm, autocomplete, form_action
from admin_customisations.jobs.bulk import Skip
from inventory.models import Part, PartCategory
from inventory.services.common import fmt
from inventory.services.parts import part_update


class ConfirmForm(ActionForm):
    """No input: the action's page only confirms the selection."""


class CategoryForm(ActionForm):
    category = forms.ModelChoiceField(
        PartCategory.objects.all(), widget=autocomplete(Part, "category"), label="New category"
    )


class MinimumStockForm(ActionForm):
    minimum_stock = forms.DecimalField(max_digits=15, decimal_places=5, min_value=0)


def _parts(n):
    return f"{n} part{'' if n == 1 else 's'}"


def _update(part, user, reason, **changes):
    if not part_update(part=part, user=user, reason=reason, **changes):
        raise Skip(f"{part} already has that.")


def activate_each(part, *, user, data):
    _update(part, user, "Activated", active=True)


def deactivate_each(part, *, user, data):
    _update(part, user, "Deactivated", active=False)


def category_each(part, *, user, data):
    _update(part, user, f"Moved to category {data['category']}", category=data["category"])


def minimum_stock_each(part, *, user, data):
    value = data["minimum_stock"]
    _update(part, user, f"Minimum stock set to {fmt(value)}", minimum_stock=value)


PART_ACTIONS = [
    form_action(
        name="activate_parts",
        description="Activate parts",
        form_class=ConfirmForm,
        each=activate_each,
        summary=lambda n, d: f"Activated {_parts(n)}.",
    ),
    form_action(
        name="deactivate_parts",
        description="Deactivate parts",
        form_class=ConfirmForm,
        each=deactivate_each,
        summary=lambda n, d: f"Deactivated {_parts(n)}.",
    ),
    form_action(
        name="change_part_category",
        description="Change category",
        form_class=CategoryForm,
        each=category_each,
        summary=lambda n, d: f"Moved {_parts(n)} to {d['category']}.",
    ),
    form_action(
        name="set_minimum_stock",
        description="Set minimum stock",
        form_class=MinimumStockForm,
        each=minimum_stock_each,
        summary=lambda n, d: f"Set the minimum stock of {_parts(n)} to {fmt(d['minimum_stock'])}.",
    ),
]
