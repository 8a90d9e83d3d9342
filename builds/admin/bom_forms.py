"""Forms for the BOM admins: every save goes through ``builds.services.bom``.

Forms and inline formsets validate by *dry-running* the services (run, then roll
back), so a refusal shows next to the row or field it concerns and nothing is
changed; ``save_model`` / ``save_formset`` then make the same calls for real.
"""

from decimal import Decimal

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db import transaction
from unfold.forms import PaginationInlineFormSet
from unfold.widgets import UnfoldAdminTextInputWidget

from admin_customisations.actions import add_service_error, dry_run
from builds.models import BomItem, BomItemSubstitute
from builds.services.bom import (
    EDITABLE_FIELDS,
    bom_item_create,
    bom_item_delete,
    bom_item_update,
    bom_substitute_add,
    bom_substitute_remove,
)
from inventory.services.common import fmt

LINE_FIELDS = list(EDITABLE_FIELDS)


class _RollbackError(Exception):
    pass


class PrefetchedAutocompleteSelect(AutocompleteSelect):
    """An autocomplete that labels its selected option from ``known`` (objects the
    formset already loaded) instead of one query per row."""

    known: dict | None = None

    def optgroups(self, name, value, attr=None):
        selected = {str(v) for v in value if str(v) not in self.choices.field.empty_values}
        known = {str(pk): obj for pk, obj in (self.known or {}).items()}
        if not selected or not selected <= set(known):
            return super().optgroups(name, value, attr)
        default = (None, [], 0)
        if not self.is_required and not self.allow_multiple_selected:
            default[1].append(self.create_option(name, "", "", False, 0))
        for pk in sorted(selected):
            label = self.choices.field.label_from_instance(known[pk])
            default[1].append(self.create_option(name, pk, label, selected, len(default[1])))
        return [default]


class ServiceInlineFormSet(PaginationInlineFormSet):
    """An inline formset saved through services: ``apply(user)`` makes the calls;
    ``clean()`` dry-runs them and puts each refusal on its row."""

    request_user = None  # set by the inline's get_formset
    autocomplete_field: str | None = None  # labelled from the loaded rows (no query per row)

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        if self.autocomplete_field and self.autocomplete_field in form.fields:
            widget = getattr(form.fields[self.autocomplete_field].widget, "widget", None)
            if isinstance(widget, PrefetchedAutocompleteSelect):
                widget.known = self._known_objects()
        return form

    def _known_objects(self) -> dict:
        if not hasattr(self, "_known"):
            field = self.autocomplete_field
            self._known = {
                getattr(obj, f"{field}_id"): getattr(obj, field) for obj in self.get_queryset()
            }
        return self._known

    def changed_forms(self):
        deleted = set(self.deleted_forms) if self.can_delete else set()
        return [f for f in self.forms if f not in deleted and f.has_changed()]

    def has_changes(self) -> bool:
        return bool(self.changed_forms()) or bool(
            [f for f in (self.deleted_forms if self.can_delete else []) if f.instance.pk]
        )

    def check_parent(self) -> None:
        """Hook: refuse changes the parent object's (unsaved) state forbids."""

    def apply(self, user, *, on_error=None) -> None:
        raise NotImplementedError

    def save_through_services(self, user) -> None:
        """The admin's save_formset: apply for real (the admin's change log reads these)."""
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        self.apply(user)

    def _call(self, form, on_error, call):
        try:
            call()
        except ValidationError as error:
            if on_error is None:
                raise
            on_error(form, error)

    def clean(self):
        super().clean()
        if any(self.errors) or not self.has_changes():
            return
        self.check_parent()
        failed = []

        def on_error(form, error):
            failed.append(error)
            add_service_error(form, error)

        try:
            with transaction.atomic():
                self.apply(self.request_user, on_error=on_error)
                raise _RollbackError
        except _RollbackError:
            pass
        if failed:
            raise ValidationError("Nothing was saved: correct the rows marked below.")


class BomLineInlineFormSet(ServiceInlineFormSet):
    """The BOM lines of an assembly (inline on the part page)."""

    autocomplete_field = "sub_part"

    def check_parent(self):
        part = self.instance
        if part.locked:
            raise ValidationError(
                f"'{part}' is locked: its BOM cannot be changed. Unlock the part first "
                "(and save), then change its BOM."
            )
        if not part.assembly:
            raise ValidationError(
                f"'{part}' is no longer marked as an assembly: its BOM cannot be changed."
            )

    def apply(self, user, *, on_error=None):
        for form in self.deleted_forms if self.can_delete else []:
            if form.instance.pk:
                self._call(
                    form, on_error, lambda f=form: bom_item_delete(bom_item=f.instance, user=user)
                )
        for form in self.changed_forms():
            data = {name: form.cleaned_data.get(name) for name in LINE_FIELDS}
            if form.instance.pk:
                changes = {n: data[n] for n in form.changed_data if n in LINE_FIELDS}
                self._call(
                    form,
                    on_error,
                    lambda f=form, c=changes: bom_item_update(bom_item=f.instance, user=user, **c),
                )
            else:
                self._call(
                    form,
                    on_error,
                    lambda d=data: bom_item_create(part=self.instance, user=user, **d),
                )


class SubstituteInlineFormSet(ServiceInlineFormSet):
    """A BOM line's substitutes (inline on the BOM line page)."""

    autocomplete_field = "part"

    def apply(self, user, *, on_error=None):
        for form in self.deleted_forms if self.can_delete else []:
            if form.instance.pk:
                self._call(
                    form,
                    on_error,
                    lambda f=form: bom_substitute_remove(substitute=f.instance, user=user),
                )
        for form in self.changed_forms():
            part = form.cleaned_data.get("part")

            def replace(f=form, part=part):
                if f.instance.pk:
                    bom_substitute_remove(substitute=f.instance, user=user)
                bom_substitute_add(bom_item=self.instance, part=part, user=user)

            self._call(form, on_error, replace)


def no_model_validation(form_class):
    """Skip the ModelForm's own model validation: the service dry run does it (once)."""

    def _post_clean(self):
        pass

    form_class._post_clean = _post_clean
    return form_class


class QuantityDisplayMixin:
    """Show stored quantities as users write them (10, 2.5), not 10.00000."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "quantity" in self.fields:
            # a Decimal (not text), so that has_changed() compares numbers
            self.initial["quantity"] = Decimal(fmt(self.instance.quantity))


@no_model_validation
class BomLineInlineForm(QuantityDisplayMixin, forms.ModelForm):
    class Meta:
        model = BomItem
        fields = LINE_FIELDS
        widgets = {"reference": UnfoldAdminTextInputWidget, "note": UnfoldAdminTextInputWidget}


@no_model_validation
class SubstituteInlineForm(forms.ModelForm):
    class Meta:
        model = BomItemSubstitute
        fields = ["part"]


@no_model_validation
class BomItemAdminForm(QuantityDisplayMixin, forms.ModelForm):
    """The BOM line page: create or update through the services (dry run in clean())."""

    class Meta:
        model = BomItem
        fields = ["part", *LINE_FIELDS]

    user = None  # set by the admin's get_form

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if self.instance.pk:
            changes = {n: data.get(n) for n in self.changed_data if n in LINE_FIELDS}
            if changes:
                dry_run(
                    self,
                    lambda: bom_item_update(bom_item=self.instance, user=self.user, **changes),
                )
        elif data.get("part") and data.get("sub_part"):
            dry_run(self, lambda: bom_item_create(user=self.user, **self.create_kwargs()))
        return data

    def create_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"part": data["part"], **{n: data.get(n) for n in LINE_FIELDS}}
