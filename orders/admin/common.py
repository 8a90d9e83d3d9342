"""Admin pieces shared by the purchase, sales and return order admins."""

from django import forms
from django.core.exceptions import ValidationError

from inventory.services.references import check_reference, next_reference
from orders.services.common import reference_pattern


class OrderReferenceForm(forms.ModelForm):
    """An order's form whose reference is optional on creation (empty: the next free
    number, allocated when the order is saved) and otherwise checked against the order
    type's pattern."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reference_auto = False
        if "reference" in self.fields:
            model = self._meta.model
            pattern = reference_pattern(model)
            self.fields["reference"].required = False
            self.fields["reference"].help_text = (
                f"Leave empty for the next number ({next_reference(model, pattern)[0]}); "
                f"pattern {pattern.text}."
            )

    def clean_reference(self):
        model = self._meta.model
        reference = (self.cleaned_data.get("reference") or "").strip()
        pattern = reference_pattern(model)
        if not reference:
            self.reference_auto = True
            # a placeholder for the model validation; the service allocates the real one
            return next_reference(model, pattern)[0]
        try:
            check_reference(model, reference, pattern)
        except ValidationError as error:
            raise ValidationError(error.message_dict["reference"]) from None
        return reference

    def validate_unique(self):
        # An automatic reference is allocated under a lock by the service: a placeholder
        # that another order took meanwhile is not the user's mistake.
        exclude = self._get_validation_exclusions()
        if self.reference_auto:
            exclude.add("reference")
        try:
            self.instance.validate_unique(exclude=exclude)
        except ValidationError as error:
            self._update_errors(error)


def status_message(order, verb: str) -> str:
    """The success message after a status transition: "SO-0004 issued: now In progress."."""
    order.refresh_from_db()
    return f"{order.reference} {verb}: now {order.get_status_display()}."
