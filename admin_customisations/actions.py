"""Admin actions that ask for input on an intermediate page, then call a service.

``form_action`` builds such an action from a form class and an ``apply``
function. The whole selection is applied in one transaction: if the service
refuses any item, nothing is changed and the form is shown again with the
message next to the field it concerns (or at the top).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.response import TemplateResponse
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)


class ActionForm(forms.Form):
    """Base form for intermediate action pages; knows the selected queryset."""

    def __init__(self, *args, queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.queryset = queryset
        for field in self.fields.values():
            field.widget = _unfold_widget(field)

    def clean_selection(self, queryset):
        """Hook: refuse a selection this action cannot handle (raise ValidationError)."""


def _unfold_widget(field):
    widget = field.widget
    if isinstance(widget, (AutocompleteSelect, forms.HiddenInput)):
        return widget
    if isinstance(field, forms.ModelChoiceField) or isinstance(field, forms.ChoiceField):
        new = UnfoldAdminSelectWidget(choices=field.choices)
    elif isinstance(field, forms.DecimalField | forms.IntegerField):
        new = UnfoldAdminDecimalFieldWidget()
    elif isinstance(widget, forms.Textarea):
        new = UnfoldAdminTextareaWidget(attrs={"rows": 3})
    elif isinstance(field, forms.CharField):
        new = UnfoldAdminTextInputWidget()
    else:
        return widget
    new.is_required = widget.is_required
    new.attrs.update({k: v for k, v in widget.attrs.items() if k not in {"class"}})
    return new


def autocomplete(model, field_name):
    """An autocomplete widget for choosing what ``model.field_name`` points at."""
    return AutocompleteSelect(
        model._meta.get_field(field_name), admin.site, attrs={"style": "width: 100%"}
    )


def add_service_error(form, error: ValidationError, prefix: str = "") -> None:
    """Attach a service's ValidationError to the form field it names, else to the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target, f"{prefix}{message}")
    else:
        for message in error.messages:
            form.add_error(None, f"{prefix}{message}")


def form_action(*, name, description, form_class, apply, permission="change", one_at_a_time=False):
    """Build an admin action with an intermediate form.

    ``apply(request=, queryset=, data=)`` performs the work through services and
    returns the success message. With ``one_at_a_time`` the selection must be
    exactly one object.
    """

    def action(modeladmin, request, queryset):
        submitted = "apply" in request.POST
        form = form_class(request.POST if submitted else None, queryset=queryset)
        selection_error = None
        if one_at_a_time and queryset.count() != 1:
            selection_error = (
                f"Select exactly one {queryset.model._meta.verbose_name} for this action."
            )
        else:
            try:
                form.clean_selection(queryset)
            except ValidationError as error:
                selection_error = " ".join(error.messages)
        if selection_error:
            modeladmin.message_user(request, selection_error, messages.ERROR)
            return None
        if submitted and form.is_valid():
            try:
                with transaction.atomic():
                    message = apply(request=request, queryset=queryset, data=form.cleaned_data)
            except ValidationError as error:
                add_service_error(form, error, prefix=getattr(error, "item_prefix", ""))
            else:
                modeladmin.message_user(request, message, messages.SUCCESS)
                return None
        opts = modeladmin.model._meta
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": description,
            "subtitle": None,
            "opts": opts,
            "form": form,
            "objects": list(queryset[:50]),
            "object_count": queryset.count(),
            "action_name": name,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected": [str(pk) for pk in queryset.values_list("pk", flat=True)],
            "media": modeladmin.media + form.media,
        }
        return TemplateResponse(request, "admin_customisations/action_form.html", context)

    action.__name__ = name
    return admin.action(description=description, permissions=[permission])(action)


def per_item(service, *, verb: str):
    """Wrap a one-item service call so a refusal names the item it concerns."""

    def run(item, **kwargs):
        try:
            return service(item=item, **kwargs)
        except ValidationError as error:
            error.item_prefix = f"{item}: "
            raise

    run.__name__ = f"{verb}_each"
    return run


class _DryRunRollbackError(Exception):
    pass


def dry_run(form, call) -> None:
    """Run ``call`` (a service call) and roll it back, turning a refusal into form errors.

    Used by admin forms so a service's validation shows inline on the form;
    the real call happens in ``save_model``.
    """
    try:
        with transaction.atomic():
            call()
            raise _DryRunRollbackError
    except _DryRunRollbackError:
        pass
    except ValidationError as error:
        add_service_error(form, error)
