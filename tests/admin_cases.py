"""Reusable admin test data: one AdminCase per model whose admin uses StockroomModelAdmin.

A model's admin smoke test is data: how to make an instance, and how many queries
its changelist may use. ``tests/foundation/test_admin_smoke.py`` runs every case
and fails when a registered Stockroom admin has no case.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin

from admin_customisations.base import StockroomModelAdmin
from tests import factories


@dataclass(frozen=True)
class AdminCase:
    make: Callable[[], Any]
    # changelist query bound with `rows` objects present (constant: no N+1)
    max_changelist_queries: int = 12
    rows: int = 20
    # text the changelist shows for an object (its first list_display column)
    list_text: Callable[[Any], str] = str
    # False where the admin deliberately offers no spreadsheet import (yet)
    importable: bool = True


ADMIN_CASES: dict[str, AdminCase] = {
    "admin_customisations.backgroundjob": AdminCase(
        make=factories.BackgroundJobFactory, list_text=lambda job: job.name
    ),
    "inventory.partcategory": AdminCase(
        make=factories.PartCategoryFactory, list_text=lambda c: c.name
    ),
    "inventory.stocklocation": AdminCase(
        make=factories.StockLocationFactory, list_text=lambda c: c.name
    ),
    "inventory.part": AdminCase(make=factories.PartFactory, list_text=lambda p: p.ipn),
    "inventory.partparametertemplate": AdminCase(
        make=factories.PartParameterTemplateFactory, list_text=lambda t: t.name
    ),
    "inventory.stockitem": AdminCase(
        make=factories.StockItemFactory, list_text=lambda i: i.location.pathstring
    ),
    "inventory.stockitemtracking": AdminCase(
        make=factories.StockItemTrackingFactory,
        list_text=lambda t: t.item.part.name,
        importable=False,
    ),
    "orders.company": AdminCase(make=factories.CompanyFactory, list_text=lambda c: c.name),
}


def stockroom_admin_models() -> list[str]:
    """Labels of every registered model whose admin is a StockroomModelAdmin."""
    return sorted(
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, StockroomModelAdmin)
    )
