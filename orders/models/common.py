"""What every order (purchase, sales, return) has in common."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from inventory.services.references import reference_int
from orders.models.companies import currency_code


class Order(models.Model):
    """Abstract order: reference, company, dates, responsible, contact/address, currency.

    Subclasses define ``company`` (supplier or customer), ``status``,
    ``OPEN_STATUSES`` and ``REFERENCE_SETTING`` (name of the pattern setting).
    """

    reference = models.CharField("reference", max_length=64, unique=True)
    reference_int = models.PositiveIntegerField(
        "reference number", default=0, db_index=True, editable=False
    )
    description = models.CharField("description", max_length=250, blank=True)
    company_reference = models.CharField(
        "their reference",
        max_length=64,
        blank=True,
        help_text="The company's own reference for this order.",
    )
    target_date = models.DateField("target date", null=True, blank=True, db_index=True)
    created_at = models.DateTimeField("created", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="created by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    issue_date = models.DateField("issued on", null=True, blank=True)
    complete_date = models.DateField("completed on", null=True, blank=True)
    responsible_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="responsible user",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    responsible_group = models.ForeignKey(
        Group,
        verbose_name="responsible group",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    contact = models.ForeignKey(
        "orders.Contact",
        verbose_name="contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    address = models.ForeignKey(
        "orders.Address",
        verbose_name="address",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    currency = models.CharField(
        "currency",
        max_length=3,
        blank=True,
        validators=[currency_code],
        help_text="Defaults to the company's currency.",
    )
    notes = models.TextField("notes", blank=True)

    history = HistoricalRecords(inherit=True)

    OPEN_STATUSES: frozenset = frozenset()
    REFERENCE_SETTING = ""

    class Meta:
        abstract = True
        ordering = ["-reference_int"]

    def __str__(self):
        return f"{self.reference} – {self.company.name}" if self.company_id else self.reference

    def save(self, *args, **kwargs):
        if not self.reference_int:  # the allocator sets it; imports and fixtures may not
            self.reference_int = reference_int(self.reference)
        if not self.currency and self.company_id:
            self.currency = self.company.currency
        super().save(*args, **kwargs)

    @property
    def company(self):
        raise NotImplementedError

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return bool(self.is_open and self.target_date and self.target_date < timezone.localdate())

    def clean(self):
        super().clean()
        errors = {}
        company = self.company if self.company_id else None
        if self.contact_id and company and self.contact.company_id != company.pk:
            errors["contact"] = (
                f"{self.contact.name} is a contact of {self.contact.company.name}, not of {company.name}."
            )
        if self.address_id and company and self.address.company_id != company.pk:
            errors["address"] = (
                f"This address belongs to {self.address.company.name}, not to {company.name}."
            )
        if errors:
            raise ValidationError(errors)
