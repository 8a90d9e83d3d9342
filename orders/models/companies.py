"""Companies: suppliers, manufacturers and customers."""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

currency_code = RegexValidator(
    r"^[A-Z]{3}$", "Use a three-letter ISO 4217 currency code, e.g. EUR."
)


class Company(models.Model):
    """A business Stockroom deals with; flags say in which roles."""

    name = models.CharField("name", max_length=100)
    description = models.CharField("description", max_length=500, blank=True)
    website = models.URLField("website", blank=True)
    email = models.EmailField("email", blank=True)
    phone = models.CharField("phone", max_length=50, blank=True)
    currency = models.CharField("currency", max_length=3, default="EUR", validators=[currency_code])
    is_supplier = models.BooleanField("supplier", default=True)
    is_manufacturer = models.BooleanField("manufacturer", default=False)
    is_customer = models.BooleanField("customer", default=False)
    active = models.BooleanField("active", default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="company_unique_name_ci",
                violation_error_message="A company with this name already exists.",
            ),
        ]

    def __str__(self):
        return self.name
