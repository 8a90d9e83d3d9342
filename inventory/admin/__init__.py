"""Inventory admin: one module per admin."""

from inventory.admin import categories, locations, parameters, parts, stock, tracking  # noqa: F401
