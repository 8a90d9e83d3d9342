"""Purchasing and sales tabs of the part page (admin_customisations/tabs.py): the purchase
order lines of its supplier parts, its sales order lines, and the sales orders holding its
stock."""

from admin_customisations.tabs import Link, Table
from inventory.services.common import fmt
from orders.models import PurchaseOrderLine, SalesOrderAllocation, SalesOrderLine


def _purchase_rows(part):
    return (
        PurchaseOrderLine.objects.filter(supplier_part__part=part)
        .select_related("order__supplier", "supplier_part")
        .order_by("-pk")
    )


PURCHASE_TABLE = Table(
    key="purchase",
    title="Purchase order lines",
    model=PurchaseOrderLine,
    rows=_purchase_rows,
    columns=[
        ("Order", lambda line: Link(line.order, line.order.reference)),
        ("Supplier", lambda line: Link(line.order.supplier, line.order.supplier.name)),
        ("Status", lambda line: line.order.get_status_display()),
        ("Supplier part", lambda line: line.supplier_part.sku),
        ("Quantity (packs)", lambda line: fmt(line.quantity)),
        ("Received", lambda line: fmt(line.received)),
        ("Target date", lambda line: line.order.target_date),
    ],
    empty="This part is on no purchase order.",
)


def _sales_rows(part):
    return (
        SalesOrderLine.objects.filter(part=part).select_related("order__customer").order_by("-pk")
    )


SALES_TABLE = Table(
    key="sales",
    title="Sales order lines",
    model=SalesOrderLine,
    rows=_sales_rows,
    columns=[
        ("Order", lambda line: Link(line.order, line.order.reference)),
        ("Customer", lambda line: Link(line.order.customer, line.order.customer.name)),
        ("Status", lambda line: line.order.get_status_display()),
        ("Quantity", lambda line: fmt(line.quantity)),
        ("Shipped", lambda line: fmt(line.shipped)),
        ("Target date", lambda line: line.order.target_date),
    ],
    empty="This part is on no sales order.",
)


def _sales_allocation_rows(part):
    from inventory.allocations import allocation_source

    source = allocation_source("orders.SalesOrderAllocation")
    return (
        source.rows()
        .filter(item__part=part)
        .select_related("line__order__customer", "item__part", "item__location")
        .order_by("-pk")
    )


SALES_ALLOCATION_TABLE = Table(
    key="sales-allocations",
    title="Held by sales orders",
    model=SalesOrderAllocation,
    rows=_sales_allocation_rows,
    columns=[
        ("Order", lambda row: Link(row.line.order, row.line.order.reference)),
        ("Customer", lambda row: row.line.order.customer.name),
        ("Stock item", lambda row: Link(row.item, f"#{row.item.pk}")),
        ("Location", lambda row: row.item.location.pathstring if row.item.location_id else None),
        ("Quantity", lambda row: fmt(row.quantity)),
    ],
    empty="No sales order holds this part's stock.",
)
