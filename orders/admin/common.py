"""Admin pieces shared by the purchase, sales and return order admins."""

from django import forms
from django.core.exceptions import ValidationError

from orders.models.references import next_reference, validate_reference
from orders.services.common import reference_pattern


class OrderReferenceForm(forms.ModelForm):
    """An order's form whose reference is optional on creation (empty: the next free
    number) and otherwise checked against the order type's pattern."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reference_auto = False
        if "reference" in self.fields:
            model = self._meta.model
            pattern = reference_pattern(model)
            self.fields["reference"].required = False
            self.fields["reference"].help_text = (
                f"Leave empty for the next number ({next_reference(model, pattern)}); "
                f"pattern {pattern}."
            )

    def clean_reference(self):
        model = self._meta.model
        reference = (self.cleaned_data.get("reference") or "").strip()
        pattern = reference_pattern(model)
        if not reference:
            self.reference_auto = True
            return next_reference(model, pattern)
        try:
            validate_reference(reference, pattern)
        except ValidationError as error:
            raise ValidationError(error.message_dict["reference"]) from None
        return reference


def status_message(order, verb: str) -> str:
    """The success message after a status transition: "SO-0004 issued: now In progress."."""
    order.refresh_from_db()
    return f"{order.reference} {verb}: now {order.get_status_display()}."
