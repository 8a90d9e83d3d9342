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


class Contact(models.Model):
    """A person at a company."""

    company = models.ForeignKey(
        Company, verbose_name="company", on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField("name", max_length=100)
    role = models.CharField("role", max_length=100, blank=True)
    email = models.EmailField("email", blank=True)
    phone = models.CharField("phone", max_length=50, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["company", "name"]

    def __str__(self):
        return f"{self.name} ({self.company.name})"


class Address(models.Model):
    """A postal address of a company; exactly one may be primary."""

    company = models.ForeignKey(
        Company, verbose_name="company", on_delete=models.CASCADE, related_name="addresses"
    )
    title = models.CharField("title", max_length=100, help_text="E.g. Head office, Warehouse.")
    primary = models.BooleanField("primary", default=False)
    line1 = models.CharField("address line 1", max_length=200)
    line2 = models.CharField("address line 2", max_length=200, blank=True)
    postal_code = models.CharField("postal code", max_length=20, blank=True)
    city = models.CharField("city", max_length=100, blank=True)
    province = models.CharField("state / province", max_length=100, blank=True)
    country = models.CharField("country", max_length=100, blank=True)
    shipping_notes = models.CharField("shipping notes", max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["company", "-primary", "title"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["company"],
                condition=models.Q(primary=True),
                name="address_one_primary_per_company",
                violation_error_message="This company already has a primary address.",
            ),
        ]

    def __str__(self):
        return f"{self.company.name}: {self.title}"


class ManufacturerPart(models.Model):
    """A manufacturer's part number for one of our parts."""

    part = models.ForeignKey(
        "inventory.Part",
        verbose_name="part",
        on_delete=models.CASCADE,
        related_name="manufacturer_parts",
        limit_choices_to={"purchaseable": True},
    )
    manufacturer = models.ForeignKey(
        Company,
        verbose_name="manufacturer",
        on_delete=models.CASCADE,
        related_name="manufactured_parts",
        limit_choices_to={"is_manufacturer": True},
    )
    mpn = models.CharField("MPN", max_length=100, help_text="Manufacturer part number.")
    description = models.CharField("description", max_length=250, blank=True)
    link = models.URLField("link", blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["manufacturer__name", "mpn"]
        verbose_name = "manufacturer part"
        constraints = [
            models.UniqueConstraint(
                fields=["part", "manufacturer", "mpn"],
                name="manufacturerpart_unique",
                violation_error_message="This manufacturer part already exists.",
            ),
        ]

    def __str__(self):
        return f"{self.manufacturer.name} {self.mpn}"


class SupplierPart(models.Model):
    """How a supplier sells one of our parts: SKU, pack size, lead time."""

    part = models.ForeignKey(
        "inventory.Part",
        verbose_name="part",
        on_delete=models.CASCADE,
        related_name="supplier_parts",
        limit_choices_to={"purchaseable": True},
    )
    supplier = models.ForeignKey(
        Company,
        verbose_name="supplier",
        on_delete=models.CASCADE,
        related_name="supplied_parts",
        limit_choices_to={"is_supplier": True},
    )
    sku = models.CharField("SKU", max_length=100, help_text="The supplier's stock keeping unit.")
    manufacturer_part = models.ForeignKey(
        ManufacturerPart,
        verbose_name="manufacturer part",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supplier_parts",
    )
    description = models.CharField("description", max_length=250, blank=True)
    pack_quantity = models.DecimalField(
        "pack quantity",
        max_digits=15,
        decimal_places=5,
        default=1,
        help_text="Part units in one pack as sold (1 when sold individually).",
    )
    lead_time_days = models.PositiveIntegerField("lead time (days)", null=True, blank=True)
    link = models.URLField("link", blank=True)
    active = models.BooleanField("active", default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["supplier__name", "sku"]
        verbose_name = "supplier part"
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "part", "sku"],
                name="supplierpart_unique_supplier_part_sku",
                violation_error_message="This supplier already has this SKU for this part.",
            ),
            models.CheckConstraint(
                condition=models.Q(pack_quantity__gt=0), name="supplierpart_pack_positive"
            ),
        ]

    def __str__(self):
        return f"{self.supplier.name} {self.sku}"


class SupplierPriceBreak(models.Model):
    """Unit price from a quantity upwards."""

    supplier_part = models.ForeignKey(
        SupplierPart,
        verbose_name="supplier part",
        on_delete=models.CASCADE,
        related_name="price_breaks",
    )
    quantity = models.DecimalField("from quantity", max_digits=15, decimal_places=5)
    price = models.DecimalField("unit price", max_digits=19, decimal_places=6)
    currency = models.CharField("currency", max_length=3, default="EUR", validators=[currency_code])

    history = HistoricalRecords()

    class Meta:
        ordering = ["supplier_part", "quantity"]
        verbose_name = "price break"
        constraints = [
            models.UniqueConstraint(
                fields=["supplier_part", "quantity"], name="pricebreak_unique_quantity"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="pricebreak_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="pricebreak_price_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.supplier_part}: {self.quantity.normalize():f}+ at {self.price.normalize():f} {self.currency}"
