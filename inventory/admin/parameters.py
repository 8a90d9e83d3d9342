"""Part parameter template admin, and the form of a part's parameter values."""

from django import forms
from django.contrib import admin
from unfold.widgets import UnfoldAdminSelectWidget

from admin_customisations.base import StockroomModelAdmin
from inventory.models import PartParameter, PartParameterTemplate


class PartParameterForm(forms.ModelForm):
    """A value of a parameter with choices is picked from them (a select, as the model only
    accepts those); other values are typed. A value saved before the choices changed stays
    offered, so the row can be saved unchanged or corrected."""

    class Meta:
        model = PartParameter
        fields = ["template", "data"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        template = self.instance.template if self.instance.template_id else None
        if template is None or "data" not in self.fields:
            return
        choices = template.choice_list()
        if not choices:
            return
        current = self.instance.data
        offered = [*choices, *([current] if current and current not in choices else [])]
        field = self.fields["data"]
        field.widget = UnfoldAdminSelectWidget(
            choices=[("", "---------"), *((c, c) for c in offered)]
        )
        field.help_text = f"One of: {', '.join(choices)}."


@admin.register(PartParameterTemplate)
class PartParameterTemplateAdmin(StockroomModelAdmin):
    list_display = ["name", "units", "checkbox", "choices", "description"]
    list_filter = ["checkbox"]
    search_fields = ["name", "description", "units"]
