"""Orders admin: one module per admin."""

from orders.admin import companies  # noqa: F401
