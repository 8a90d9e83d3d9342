"""Inventory models, re-exported: ``from inventory.models import Part``."""

from inventory.models.parts import Part, PartCategory, PartParameter, PartParameterTemplate
from inventory.models.permissions import (
    StockLocationGroupObjectPermission,
    StockLocationUserObjectPermission,
)
from inventory.models.stock import StockItem, StockItemTracking, StockLocation
from inventory.models.subscriptions import PartSubscription

__all__ = [
    "Part",
    "PartCategory",
    "PartParameter",
    "PartParameterTemplate",
    "PartSubscription",
    "StockItem",
    "StockItemTracking",
    "StockLocation",
    "StockLocationGroupObjectPermission",
    "StockLocationUserObjectPermission",
]
