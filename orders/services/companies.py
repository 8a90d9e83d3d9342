"""Company services: addresses (one primary per company), sourcing rules, price lookup.

Rules (R64, R65 of the InvenTree domain reference):
- a company has at most one primary address; marking one primary un-marks the others,
  and a company with addresses but no primary gets its first address as primary;
- a supplier part is for a purchaseable part, sold by a company marked as supplier,
  with a pack quantity above zero (a whole number for trackable parts); its manufacturer
  part, if any, is for the same part; (supplier, part, SKU) is unique;
- a manufacturer part is for a purchaseable part, made by a company marked as manufacturer;
- a price break gives the unit price (per pack, in the break's currency) from its quantity
  (in packs) upwards; the price for a quantity is the break with the largest quantity not
  above it; below the smallest break there is no price.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from inventory.services.common import lock, save_with_history
from orders.models import Address, Company, ManufacturerPart, SupplierPart, SupplierPriceBreak


def related(obj, name):
    """``obj.name`` if set (also an unsaved related object), else None — never a query error."""
    field = obj._meta.get_field(name)
    if field.is_cached(obj):
        return getattr(obj, name)
    return getattr(obj, name) if getattr(obj, field.attname) is not None else None


# --- addresses -------------------------------------------------------------------------------


def _unmark_other_primaries(address, user):
    others = Address.objects.select_for_update().filter(company_id=address.company_id, primary=True)
    if address.pk:
        others = others.exclude(pk=address.pk)
    for other in others:
        other.primary = False
        save_with_history(other, user=user, reason=f"Primary address is now '{address.title}'")


@transaction.atomic
def address_save(*, address, user) -> Address:
    """Validate and save an address (new or changed), keeping exactly one primary per company.

    Marking it primary un-marks the company's other primary address; the first address of
    a company becomes primary even when not marked.
    """
    lock(Company, address.company_id)
    adding = address.pk is None
    if address.primary:
        _unmark_other_primaries(address, user)
    else:
        others = Address.objects.filter(company_id=address.company_id, primary=True)
        if address.pk:
            others = others.exclude(pk=address.pk)
        if not others.exists():
            address.primary = True
    address.full_clean()
    save_with_history(address, user=user, reason="Created" if adding else "Changed")
    return address


@transaction.atomic
def address_set_primary(*, address, user) -> Address:
    """Make ``address`` its company's primary address (the previous primary is un-marked)."""
    lock(Company, address.company_id)
    address = lock(Address, address.pk)
    if address.primary:
        return address
    _unmark_other_primaries(address, user)
    address.primary = True
    save_with_history(address, user=user, reason="Marked primary")
    return address


@transaction.atomic
def address_ensure_primary(*, company, user) -> Address | None:
    """If ``company`` has addresses but none primary, its first address becomes primary."""
    lock(Company, company.pk)
    addresses = Address.objects.filter(company_id=company.pk)
    primary = addresses.filter(primary=True).first()
    if primary is not None:
        return primary
    first = addresses.order_by("pk").first()
    if first is None:
        return None
    first.primary = True
    save_with_history(first, user=user, reason="Marked primary (the company had none)")
    return first


@transaction.atomic
def address_delete(*, address, user) -> None:
    """Delete an address; when it was the primary one, the next address becomes primary."""
    address = lock(Address, address.pk)
    company = address.company
    address._history_user = user
    address._change_reason = "Deleted"
    address.delete()
    address_ensure_primary(company=company, user=user)


# --- sourcing rules --------------------------------------------------------------------------


def manufacturer_part_check(manufacturer_part) -> None:
    """Domain rules of a manufacturer part (raises ValidationError keyed by field)."""
    errors = {}
    part = related(manufacturer_part, "part")
    manufacturer = related(manufacturer_part, "manufacturer")
    if part is not None and not part.purchaseable:
        errors["part"] = f"'{part}' is not purchaseable: mark it purchaseable first."
    if manufacturer is not None and not manufacturer.is_manufacturer:
        errors["manufacturer"] = f"{manufacturer.name} is not marked as a manufacturer."
    if errors:
        raise ValidationError(errors)


def supplier_part_check(supplier_part) -> None:
    """Domain rules of a supplier part (raises ValidationError keyed by field)."""
    errors = {}
    part = related(supplier_part, "part")
    supplier = related(supplier_part, "supplier")
    manufacturer_part = related(supplier_part, "manufacturer_part")
    if part is not None and not part.purchaseable:
        errors["part"] = f"'{part}' is not purchaseable: mark it purchaseable first."
    if supplier is not None and not supplier.is_supplier:
        errors["supplier"] = f"{supplier.name} is not marked as a supplier."
    if manufacturer_part is not None and part is not None:
        if manufacturer_part.part_id != part.pk:
            errors["manufacturer_part"] = (
                f"{manufacturer_part} is a manufacturer part of '{manufacturer_part.part}', "
                f"not of '{part}'."
            )
    pack = supplier_part.pack_quantity
    if pack is not None:
        try:
            pack = Decimal(str(pack))
        except ArithmeticError:
            raise ValidationError({"pack_quantity": f"'{pack}' is not a number."}) from None
        if not pack.is_finite():
            raise ValidationError({"pack_quantity": f"'{pack}' is not a number."})
        if pack <= 0:
            errors["pack_quantity"] = "Pack quantity must be greater than zero."
        elif part is not None and part.trackable and pack != int(pack):
            errors["pack_quantity"] = (
                f"'{part}' is trackable: a pack must hold a whole number of units."
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def manufacturer_part_save(*, manufacturer_part, user) -> ManufacturerPart:
    adding = manufacturer_part.pk is None
    manufacturer_part_check(manufacturer_part)
    manufacturer_part.full_clean()
    save_with_history(manufacturer_part, user=user, reason="Created" if adding else "Changed")
    return manufacturer_part


@transaction.atomic
def supplier_part_save(*, supplier_part, user) -> SupplierPart:
    adding = supplier_part.pk is None
    supplier_part_check(supplier_part)
    supplier_part.full_clean()
    save_with_history(supplier_part, user=user, reason="Created" if adding else "Changed")
    return supplier_part


# --- prices ----------------------------------------------------------------------------------


def _to_decimal(quantity) -> Decimal:
    try:
        value = Decimal(str(quantity))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"quantity": f"'{quantity}' is not a number."}) from None
    if not value.is_finite():
        raise ValidationError({"quantity": f"'{quantity}' is not a number."})
    return value


def supplier_part_price_break(
    supplier_part, quantity, currency: str | None = None
) -> SupplierPriceBreak | None:
    """The price break that applies to ``quantity`` packs: the largest break quantity ≤ it
    (among the breaks in ``currency`` when given).

    Uses prefetched ``price_breaks`` when present (no query per supplier part in lists).
    """
    quantity = _to_decimal(quantity)
    best = None
    for price_break in supplier_part.price_breaks.all():
        if currency and price_break.currency != currency:
            continue
        if price_break.quantity > quantity:
            continue
        if best is None or price_break.quantity > best.quantity:
            best = price_break
    return best


def supplier_part_price(supplier_part, quantity, currency: str | None = None) -> Decimal | None:
    """Unit price (per pack, in the break's currency) for ordering ``quantity`` packs; None
    when the supplier part has no break at or below that quantity (in ``currency`` if given)."""
    price_break = supplier_part_price_break(supplier_part, quantity, currency)
    return price_break.price if price_break is not None else None
