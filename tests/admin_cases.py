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


ADMIN_CASES: dict[str, AdminCase] = {
    "builds.buildorder": AdminCase(
        make=factories.BuildOrderFactory,
        list_text=lambda build: build.reference,
        max_changelist_queries=8,  # 2 of them: a non-superuser's permissions
    ),
    "admin_customisations.backgroundjob": AdminCase(
        make=factories.BackgroundJobFactory,
        list_text=lambda job: job.name,
    ),
    "inventory.partcategory": AdminCase(
        make=factories.PartCategoryFactory, list_text=lambda c: c.name
    ),
    "inventory.stocklocation": AdminCase(
        make=factories.StockLocationFactory, list_text=lambda c: c.name
    ),
    "inventory.part": AdminCase(
        make=factories.PartFactory,
        list_text=lambda p: p.ipn,
        # session + user + 2 permission reads, category filter choices, count, the page, the
        # page's figures (allocated: one UNION ALL over the allocation sources; on order)
        # and the BOM overview of the page's assemblies (lines, their parts, substitutes,
        # in-stock sums, allocated): fixed, independent of page and data size
        # (tests/inventory/test_scale_part_pages.py)
        max_changelist_queries=14,
    ),
    "builds.bomitem": AdminCase(
        make=factories.BomItemFactory,
        list_text=lambda line: str(line.part),
        max_changelist_queries=6,  # 4 for a superuser; other users add 2 permission reads
    ),
    "inventory.partparametertemplate": AdminCase(
        make=factories.PartParameterTemplateFactory, list_text=lambda t: t.name
    ),
    "inventory.stockitem": AdminCase(
        make=factories.StockItemFactory, list_text=lambda i: i.location.pathstring
    ),
    "inventory.stockitemtracking": AdminCase(
        make=factories.StockItemTrackingFactory,
        list_text=lambda t: t.item.part.name,
    ),
    "orders.company": AdminCase(make=factories.CompanyFactory, list_text=lambda c: c.name),
    "orders.contact": AdminCase(
        make=factories.ContactFactory, list_text=lambda c: c.name, max_changelist_queries=6
    ),
    "orders.address": AdminCase(
        make=factories.AddressFactory, list_text=lambda a: a.title, max_changelist_queries=6
    ),
    "orders.manufacturerpart": AdminCase(
        make=factories.ManufacturerPartFactory, list_text=lambda m: m.mpn, max_changelist_queries=6
    ),
    "orders.supplierpart": AdminCase(
        make=lambda: factories.SupplierPriceBreakFactory().supplier_part,
        list_text=lambda s: s.sku,
        max_changelist_queries=7,
    ),
    "orders.purchaseorder": AdminCase(
        make=lambda: factories.PurchaseOrderLineFactory().order,
        list_text=lambda order: order.reference,
        max_changelist_queries=8,
    ),
    "orders.salesorder": AdminCase(
        make=lambda: factories.SalesOrderLineFactory().order,
        list_text=lambda order: order.reference,
        max_changelist_queries=8,
    ),
    "orders.salesordershipment": AdminCase(
        make=factories.SalesOrderShipmentFactory,
        list_text=lambda shipment: f"{shipment.order.reference} / {shipment.reference}",
        max_changelist_queries=6,
    ),
    "orders.returnorder": AdminCase(
        make=lambda: factories.ReturnOrderLineFactory().order,
        list_text=lambda order: order.reference,
        max_changelist_queries=8,
    ),
}


def stockroom_admin_models() -> list[str]:
    """Labels of every registered model whose admin is a StockroomModelAdmin."""
    return sorted(
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, StockroomModelAdmin)
    )
