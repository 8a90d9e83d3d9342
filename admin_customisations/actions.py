"""Admin actions that ask for input on an intermediate page, then call a service.

``form_action`` builds such an action from a form class and either an ``apply``
function (the whole selection at once) or an ``each`` function (one object,
through a service). Small selections run inline in one transaction: if the
service refuses any object, nothing is changed and the form is shown again with
the message next to the field it concerns (or at the top); an object already in
the requested state is skipped. An ``each`` action over a selection larger than
``BULK_JOB_THRESHOLD``, or over "all N matching rows", becomes a background job
(``admin_customisations.jobs``) that applies the same ``each`` per object.

``detail_from_form_action`` offers such an action as a button on one object's
change page (unfold ``actions_detail``): the same form, validation, services and
transaction, for just that object, back to its page with the message.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from unfold.decorators import action as unfold_action
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


def form_action(
    *,
    name,
    description,
    form_class,
    apply=None,
    each=None,
    summary=None,
    permission="change",
    one_at_a_time=False,
    select_related=(),
    each_batch=None,
    pass_selection=False,
):
    """Build an admin action with an intermediate form.

    Either ``apply(request=, queryset=, data=)`` performs the work through
    services and returns the success message, or ``each(obj, *, user, data)``
    changes one object (raising ``jobs.bulk.Skip`` when it needs no change) and
    ``summary(count, data)`` words the message; only ``each`` actions can run as
    background jobs. With ``one_at_a_time`` the selection must be exactly one object.
    """
    from admin_customisations.jobs.bulk import BulkSpec, Skip, job_threshold
    from admin_customisations.jobs.runner import start_bulk_job

    if (apply is None) == (each is None):
        raise TypeError("form_action needs exactly one of apply= or each=")
    spec = (
        BulkSpec(
            name=name,
            description=description,
            form_class=form_class,
            each=each,
            permission=permission,
            summary=summary,
            select_related=tuple(select_related),
            each_batch=each_batch,
            pass_selection=pass_selection,
        )
        if each
        else None
    )

    def apply_each(*, request, queryset, data):
        changed = skipped = 0
        extra = {"selection": queryset} if spec.pass_selection else {}
        for obj in queryset.select_related(*spec.select_related).order_by("pk"):
            if spec.pass_selection and not type(obj)._default_manager.filter(pk=obj.pk).exists():
                continue  # taken in by an earlier object's step (e.g. merged into it)
            try:
                each(obj, user=request.user, data=data, **extra)
                changed += 1
            except Skip:
                skipped += 1
            except ValidationError as error:
                # services usually name the object they refuse; otherwise say which one
                named = str(obj) in " ".join(error.messages)
                error.item_prefix = "" if named else f"{obj}: "
                raise
        message = summary(changed, data) if summary else f"{description}: {changed} changed."
        return message + (f" {skipped} already up to date, skipped." if skipped else "")

    def action(modeladmin, request, queryset, *, object_url=None):
        # object_url: run for the one object of a change page (detail_from_form_action);
        # never a background job, and back to that page when done
        submitted = request.method == "POST" and "apply" in request.POST
        form = form_class(request.POST if submitted else None, queryset=queryset)
        select_across = request.POST.get("select_across") == "1"
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
        as_job = (
            spec is not None
            and object_url is None
            and (select_across or queryset.count() > job_threshold())
        )
        if submitted and form.is_valid():
            if as_job:
                job = start_bulk_job(
                    model_admin=modeladmin, request=request, queryset=queryset, spec=spec, form=form
                )
                url = job.get_absolute_url()
                modeladmin.message_user(
                    request,
                    format_html(
                        '{} runs in the background as <a href="{}">job #{}</a>.',
                        description,
                        url,
                        job.pk,
                    ),
                    messages.SUCCESS,
                )
                return redirect(url)
            try:
                with transaction.atomic():
                    run = apply or apply_each
                    message = run(request=request, queryset=queryset, data=form.cleaned_data)
            except ValidationError as error:
                add_service_error(form, error, prefix=getattr(error, "item_prefix", ""))
            else:
                modeladmin.message_user(request, message, messages.SUCCESS)
                return redirect(object_url) if object_url else None
        opts = modeladmin.model._meta
        object_count = queryset.count()
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": description,
            "subtitle": None,
            "opts": opts,
            "form": form,
            "objects": list(queryset[:50]),
            "object_count": object_count,
            "action_name": name,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            # "All N matching" is carried as the changelist query, never as a list of ids.
            "select_across": select_across,
            "selected": []
            if select_across
            else [str(pk) for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)],
            "runs_as_job": as_job,
            "object_url": object_url,
            "cancel_url": object_url
            or reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            "media": modeladmin.media + form.media,
        }
        return TemplateResponse(request, "admin_customisations/action_form.html", context)

    action.__name__ = name
    action.bulk = spec
    return admin.action(description=description, permissions=[permission])(action)


def detail_from_form_action(
    list_action, *, name=None, icon=None, variant=None, url_path=None, description=None
):
    """The change-page button (an unfold ``actions_detail`` entry) for ``form_action``
    list action ``list_action``: the same form on the same page, for this object only.

    GET shows the form; POST runs the action's own validation, services and transaction
    for a queryset of just this object and returns to the object's page with the message
    (a refusal re-shows the form with the message, nothing changed). The button is named
    ``name`` (default ``detail_<action>``: assign it to that attribute of the ModelAdmin
    and list it in ``actions_detail``) and needs the list action's permission; ``url_path``
    and ``description`` default to the list action's name and description.
    """
    action_name = list_action.__name__

    def view(modeladmin, request, object_id):
        opts = modeladmin.model._meta
        obj = modeladmin.get_object(request, unquote(object_id))
        if obj is None:  # unknown id, or "abc"
            raise Http404(f"No such {opts.verbose_name}.")
        object_url = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)]
        )
        queryset = modeladmin.get_queryset(request).filter(pk=obj.pk)
        response = list_action(modeladmin, request, queryset, object_url=object_url)
        return response or redirect(object_url)

    view.__name__ = name or f"detail_{action_name}"
    view.form_action_name = action_name
    extra = {"variant": variant} if variant is not None else {}
    return unfold_action(
        description=description or list_action.short_description,
        url_path=url_path or action_name.replace("_", "-"),
        permissions=list(list_action.allowed_permissions),
        icon=icon,
        **extra,
    )(view)


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
