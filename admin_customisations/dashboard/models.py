"""The dashboard's snapshot table: figures too heavy to compute per request."""

from django.db import models


class DashboardSnapshot(models.Model):
    """One named set of figures (JSON) and when it was computed.

    A cache, rewritten by the periodic task ``stockroom.refresh_dashboard``
    (``admin_customisations.dashboard.snapshot``); not tracked by the change history and
    without permissions of its own (what it shows is decided per widget).
    """

    name = models.CharField("name", max_length=50, unique=True)
    data = models.JSONField("figures", default=dict)
    computed_at = models.DateTimeField("computed at")
    seconds = models.FloatField("computation time (s)", default=0)

    class Meta:
        app_label = "admin_customisations"
        verbose_name = "dashboard snapshot"
        default_permissions = ()

    def __str__(self):
        return f"{self.name} ({self.computed_at:%Y-%m-%d %H:%M})"
