"""Build order status codes (InvenTree's values)."""

from django.db import models


class BuildStatus(models.IntegerChoices):
    PENDING = 10, "Pending"
    PRODUCTION = 20, "Production"
    ON_HOLD = 25, "On hold"
    CANCELLED = 30, "Cancelled"
    COMPLETE = 40, "Complete"


ACTIVE_BUILD_STATUSES = frozenset(
    {BuildStatus.PENDING, BuildStatus.PRODUCTION, BuildStatus.ON_HOLD}
)

BUILD_STATUS_COLOURS = {
    BuildStatus.PENDING: "info",
    BuildStatus.PRODUCTION: "warning",
    BuildStatus.ON_HOLD: "warning",
    BuildStatus.CANCELLED: "danger",
    BuildStatus.COMPLETE: "success",
}
