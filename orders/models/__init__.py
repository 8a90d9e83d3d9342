"""Order models, re-exported: ``from orders.models import PurchaseOrder``."""

from orders.models.companies import (
    Address,
    Company,
    Contact,
    ManufacturerPart,
    SupplierPart,
    SupplierPriceBreak,
)
from orders.models.permissions import (
    PurchaseOrderGroupObjectPermission,
    PurchaseOrderUserObjectPermission,
    ReturnOrderGroupObjectPermission,
    ReturnOrderUserObjectPermission,
    SalesOrderGroupObjectPermission,
    SalesOrderUserObjectPermission,
)
from orders.models.purchase import PurchaseOrder, PurchaseOrderExtraLine, PurchaseOrderLine
from orders.models.returns import ReturnOrder, ReturnOrderLine
from orders.models.sales import (
    SalesOrder,
    SalesOrderAllocation,
    SalesOrderExtraLine,
    SalesOrderLine,
    SalesOrderShipment,
)

__all__ = [
    "PurchaseOrderGroupObjectPermission",
    "PurchaseOrderUserObjectPermission",
    "ReturnOrderGroupObjectPermission",
    "ReturnOrderUserObjectPermission",
    "SalesOrderGroupObjectPermission",
    "SalesOrderUserObjectPermission",
    "Address",
    "Company",
    "Contact",
    "ManufacturerPart",
    "PurchaseOrder",
    "PurchaseOrderExtraLine",
    "PurchaseOrderLine",
    "ReturnOrder",
    "ReturnOrderLine",
    "SalesOrder",
    "SalesOrderAllocation",
    "SalesOrderExtraLine",
    "SalesOrderLine",
    "SalesOrderShipment",
    "SupplierPart",
    "SupplierPriceBreak",
]
