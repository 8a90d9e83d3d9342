"""Pickers that offer only valid choices.

A *picker* names the objects a form field may choose for a given *scope* (a sales order,
a build line…): e.g. "in-stock items of this order's parts, with their location and
available quantity". The same picker narrows both

* the autocomplete list: ``PickerSelect`` asks the picked model's admin endpoint
  ``<app>_<model>_picker`` (``PickerEndpointMixin``: Django's autocomplete view, with the
  picker's restriction and labels), so nothing invalid is offered; and
* the form field's queryset (``picker_field`` / ``narrow_to_picker``), so a forged id is
  refused as a field error before any service runs.

Restrictions are filters on indexed columns of the picked table (part, location, state),
applied before the admin's search and its ``LIMIT``; labels read annotations of the same
query (no query per row).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.urls import path, reverse
from django.utils.http import urlencode


@dataclass(frozen=True)
class Picker:
    name: str
    # restrict(queryset, scope) -> the valid objects among ``queryset`` (scope: a string
    # the form put in the widget's URL, e.g. an order id; "" or junk: no valid objects)
    restrict: Callable[[QuerySet, str], QuerySet]
    label: Callable[[object], str] = str
    # the field error for an object outside the picker (a forged or outdated id)
    refusal: str = "Choose one of the offered objects."


PICKERS: dict[str, Picker] = {}


def register_picker(picker: Picker) -> Picker:
    PICKERS[picker.name] = picker
    return picker


def scope_id(scope) -> int | None:
    """``scope`` as a primary key (None when it is not one)."""
    try:
        value = int(str(scope))
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


class PickerSelect(AutocompleteSelect):
    """Django's autocomplete widget, asking the picker endpoint of the picked model."""

    def __init__(self, picker: Picker, source_model, field_name, scope="", attrs=None):
        super().__init__(
            source_model._meta.get_field(field_name),
            admin.site,
            attrs={"style": "width: 100%", **(attrs or {})},
        )
        self.picker = picker
        self.scope = str(scope)

    def get_url(self):
        opts = self.field.remote_field.model._meta
        url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_picker")
        return f"{url}?{urlencode({'picker': self.picker.name, 'scope': self.scope})}"


def narrow_to_picker(
    field: forms.ModelChoiceField, picker: Picker, source_model, field_name, scope
):
    """Make ``field`` offer and accept only ``picker``'s objects for ``scope``."""
    field.widget = PickerSelect(picker, source_model, field_name, scope)
    field.widget.is_required = field.required
    # after the widget: setting the queryset hands the widget its choices
    field.queryset = picker.restrict(field.queryset.model._default_manager.all(), str(scope))
    field.label_from_instance = picker.label
    field.error_messages = {**field.error_messages, "invalid_choice": picker.refusal}
    return field


class PickerJsonView(AutocompleteJsonView):
    """The autocomplete view (same request parameters, permission and search), narrowed to
    the picker named in ``?picker=`` for ``?scope=`` and labelled by it."""

    expected_admin = None

    def get(self, request, *args, **kwargs):
        if not self.expected_admin.has_view_permission(request):
            raise PermissionDenied
        self.picker = PICKERS.get(request.GET.get("picker", ""))
        if self.picker is None:
            raise Http404("No such picker.")
        return super().get(request, *args, **kwargs)

    def process_request(self, request):
        found = super().process_request(request)
        if found[1] is not self.expected_admin:
            raise PermissionDenied  # a picker of another model's endpoint
        return found

    def get_queryset(self):
        return self.picker.restrict(super().get_queryset(), self.request.GET.get("scope", ""))

    def serialize_result(self, obj, to_field_name):
        return {"id": str(getattr(obj, to_field_name)), "text": self.picker.label(obj)}


class PickerEndpointMixin:
    """Adds ``picker/`` (``<app>_<model>_picker``) to a ModelAdmin: the endpoint of the
    ``PickerSelect`` widgets that pick this model (needs ``search_fields``, as Django's)."""

    def get_urls(self):
        opts = self.model._meta

        def view(request):
            return PickerJsonView.as_view(admin_site=self.admin_site, expected_admin=self)(request)

        return [
            path(
                "picker/",
                self.admin_site.admin_view(view),
                name=f"{opts.app_label}_{opts.model_name}_picker",
            ),
            *super().get_urls(),
        ]
