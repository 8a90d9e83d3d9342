"""Order models, re-exported: ``from orders.models import Company``."""

from orders.models.companies import Company

__all__ = ["Company"]
