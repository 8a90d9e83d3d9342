"""Orders admin: one module per admin."""

from orders.admin import companies, purchase, returns, sales, sourcing  # noqa: F401
