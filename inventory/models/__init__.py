"""Inventory models, re-exported: ``from inventory.models import Part``."""

from inventory.models.parts import Part, PartCategory, PartParameter, PartParameterTemplate
from inventory.models.permissions import (
    StockLocationGroupObjectPermission,
    StockLocationUserObjectPermission,
)
from inventory.models.stock import StockItem, StockItemTracking, StockLocation

__all__ = [
    "Part",
    "PartCategory",
    "PartParameter",
    "PartParameterTemplate",
    "StockItem",
    "StockItemTracking",
    "StockLocation",
    "StockLocationGroupObjectPermission",
    "StockLocationUserObjectPermission",
]
