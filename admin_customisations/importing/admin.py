"""Spreadsheet import and export pages for every admin whose model has a resource.

``ImportExportAdminMixin`` (on ``StockroomModelAdmin``) adds, for the resources an admin
*hosts* (its model's resource, plus resources of models without an admin of their own,
e.g. purchase order lines on the purchase order list):

* ``import/``                 upload: file, delimiter, the resource's options; columns; template
* ``import/template.<fmt>``   the template: headers + the example rows (fixtures/examples/)
* ``import/<run>/``           preview: summary, detected encoding/delimiter, error rows only
* ``import/<run>/confirm/``   POST: commit what was previewed (all or nothing)
* ``export/``                 format + column chooser over the changelist's filtered rows

Admins that host no resource get none of these URLs and no buttons. Permissions
(``may_import`` / ``may_export`` below, docs/importing.md "Who may import and export"):
import needs add AND change on the model and view on the models its columns refer to;
export needs view (contacts: change); an import run is seen only by its user, superusers
and job administrators, and only its user may confirm it.
"""

from __future__ import annotations

import csv
from pathlib import Path
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminFileFieldWidget,
    UnfoldAdminRadioSelectWidget,
    UnfoldAdminSelectWidget,
)

from admin_customisations.importing import resource as registry
from admin_customisations.permissions import user_may

ERRORS_PER_PAGE = 50
DELIMITER_CHOICES = [
    ("", "Detect automatically"),
    (",", "Comma (,)"),
    (";", "Semicolon (;)"),
    ("\t", "Tab"),
]
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

# Resources of models without an admin of their own are offered on this admin's list.
HOSTS = {
    "inventory.partparameter": "inventory.part",
    "orders.supplierpricebreak": "orders.supplierpart",
    "orders.purchaseorderline": "orders.purchaseorder",
    "orders.salesorderline": "orders.salesorder",
}
# Export needs view, except here (personal data: names, e-mail addresses, phone numbers).
EXPORT_PERMISSION = {"orders.contact": "change"}


# ------------------------------------------------------------------ permissions


def referenced_models(resource) -> set:
    """Models a resource's columns name by natural key (their foreign keys)."""
    found = set()
    for column in resource.columns:
        if not column.attribute or not getattr(column, "importable", True):
            continue
        try:
            field = resource.model._meta.get_field(column.attribute.split("__")[0])
        except Exception:  # noqa: BLE001  (a computed attribute, not a field)
            continue
        if field.is_relation and field.related_model is not None:
            found.add(field.related_model)
    found.discard(resource.model)
    return found


def may_import(user, resource) -> bool:
    """Add AND change on the model, and view on every model it refers to by name (so an
    import cannot probe for names the user may not see: an engineer cannot import supplier
    parts, whose supplier is a company)."""
    if user is None or not user.is_active or not user.is_staff:
        return False
    if not resource.may_import(user):
        return False
    return all(user_may(user, "view", model=model) for model in referenced_models(resource))


def may_export(user, resource) -> bool:
    if user is None or not user.is_active or not user.is_staff:
        return False
    if not resource.may_export(user):
        return False
    action = EXPORT_PERMISSION.get(resource.model._meta.label_lower, "view")
    return user_may(user, action, model=resource.model)


def is_import_admin(user) -> bool:
    """Superusers and job administrators (the admin role with change) see every run."""
    return user.is_superuser or user.has_perm("admin_customisations.change_backgroundjob")


def may_see_run(user, run) -> bool:
    return run.user_id == user.pk or is_import_admin(user)


def host_label(resource) -> str:
    label = resource.model._meta.label_lower
    return getattr(resource, "admin_model", None) or HOSTS.get(label, label)


def resource_label(resource) -> str:
    return resource.get_title() if hasattr(resource, "get_title") else resource.name


def in_sentence(title: str) -> str:
    """'Part categories' -> 'part categories', but 'BOM lines' stays."""
    if len(title) > 1 and title[1].isupper():
        return title
    return title[:1].lower() + title[1:]


# ------------------------------------------------------------------ forms


def upload_form_class(resource):
    """The upload form: file and delimiter, plus the resource's own options form."""
    options = getattr(resource, "options_form", None)
    bases = (UploadForm, options) if options else (UploadForm,)
    return type("ImportUploadForm", bases, {"field_order": ["import_file", "delimiter"]})


class UploadForm(forms.Form):
    import_file = forms.FileField(
        label="File",
        help_text="CSV (comma, semicolon or tab separated; UTF-8 or Windows-1252) or XLSX.",
        widget=UnfoldAdminFileFieldWidget,
    )
    delimiter = forms.ChoiceField(
        label="Delimiter (CSV)",
        choices=DELIMITER_CHOICES,
        required=False,
        widget=UnfoldAdminSelectWidget,
    )

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        cap = int(getattr(settings, "IMPORT_MAX_FILE_MB", 20))
        if upload.size > cap * 1024 * 1024:
            raise ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the largest file an import "
                f"accepts is {cap} MB. Split it into smaller files."
            )
        if upload.size == 0:
            raise ValidationError("The file is empty.")
        # what the file is (CSV, XLSX, or something else) is decided by read_sheet from its
        # content, with its own messages (docs/importing.md "File formats and limits")
        return upload

    def options(self) -> dict:
        """The resource's options (everything but file and delimiter), JSON-ready."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in ("import_file", "delimiter")
        }


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label="Format",
        choices=[("csv", "CSV (comma separated, UTF-8)"), ("xlsx", "Excel (XLSX)")],
        initial="csv",
        widget=UnfoldAdminRadioSelectWidget,
    )
    columns = forms.MultipleChoiceField(
        label="Columns",
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        error_messages={"required": "Choose at least one column."},
    )

    def __init__(self, *args, headers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["columns"].choices = [(h, h) for h in headers]
        self.fields["columns"].initial = list(headers)


# ------------------------------------------------------------------ the mixin


class ImportExportAdminMixin:
    """Import/export pages and changelist buttons (see the module docstring)."""

    change_list_template = "admin/importing/change_list.html"

    # ---------------------------------------------------------------- resources
    def sheet_resources(self) -> list:
        """Resources this admin hosts: its model's own first, then hosted ones by title."""
        label = self.model._meta.label_lower
        hosted = [r for r in registry.all_resources() if host_label(r) == label]
        hosted.sort(key=lambda r: (r.model is not self.model, resource_label(r)))
        return hosted

    def sheet_resource(self, name: str | None):
        """The hosted resource called ``name`` (the first one when no name is given)."""
        resources = self.sheet_resources()
        if not resources:
            raise Http404("Nothing here can be imported or exported.")
        if not name:
            return resources[0]
        for resource in resources:
            if resource.name == name:
                return resource
        raise Http404(f"There is no spreadsheet resource '{name}' here.")

    def sheet_param(self, resource) -> str:
        """The ``resource`` query parameter naming ``resource`` ('' for the default one)."""
        resources = self.sheet_resources()
        return "" if resources and resources[0].name == resource.name else resource.name

    def has_sheet_import_permission(self, request, resource) -> bool:
        return may_import(request.user, resource)

    def has_sheet_export_permission(self, request, resource) -> bool:
        return may_export(request.user, resource)

    # ---------------------------------------------------------------- URLs
    def get_urls(self):
        urls = super().get_urls()
        if not self.sheet_resources():
            return urls
        info = self.model._meta.app_label, self.model._meta.model_name
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="{}_{}_import".format(*info)),
            path(
                "import/template.<str:fmt>",
                view(self.import_template_view),
                name="{}_{}_import_template".format(*info),
            ),
            path(
                "import/<int:run_id>/",
                view(self.import_run_view),
                name="{}_{}_import_run".format(*info),
            ),
            path(
                "import/<int:run_id>/confirm/",
                view(require_POST(self.import_confirm_view)),
                name="{}_{}_import_confirm".format(*info),
            ),
            path("export/", view(self.export_view), name="{}_{}_export".format(*info)),
            *urls,
        ]

    def _url(self, name: str, *args, query: dict | None = None) -> str:
        opts = self.model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}", args=args)
        query = {k: v for k, v in (query or {}).items() if v}
        return f"{url}?{urlencode(query)}" if query else url

    # ---------------------------------------------------------------- changelist buttons
    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "sheet_links": self.sheet_links(request)}
        return super().changelist_view(request, extra_context=extra_context)

    def sheet_links(self, request) -> list[dict]:
        """The Import / Export buttons this user may use on this changelist."""
        links = []
        filters = request.GET.urlencode()
        for resource in self.sheet_resources():
            name = self.sheet_param(resource)
            # "Import" for the list's own records; "Import purchase order lines" otherwise
            hosted = name or resource.model is not self.model
            suffix = f" {in_sentence(resource_label(resource))}" if hosted else ""
            if self.has_sheet_import_permission(request, resource):
                links.append(
                    {
                        "title": f"Import{suffix}",
                        "url": self._url("import", query={"resource": name}),
                        "icon": "upload",
                    }
                )
            if self.has_sheet_export_permission(request, resource):
                links.append(
                    {
                        "title": f"Export{suffix}",
                        "url": self._url(
                            "export", query={"resource": name, "_changelist_filters": filters}
                        ),
                        "icon": "download",
                    }
                )
        return links

    # ---------------------------------------------------------------- page context
    def _page_context(self, request, resource, title, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "subtitle": None,
            "resource": resource,
            "resource_title": resource_label(resource),
            "resource_param": self.sheet_param(resource),
            "changelist_url": self._url("changelist"),
            **extra,
        }

    def _import_resource(self, request, name):
        resource = self.sheet_resource(name)
        if not self.has_sheet_import_permission(request, resource):
            raise PermissionDenied
        return resource

    # ---------------------------------------------------------------- upload
    def import_view(self, request):
        resource = self._import_resource(request, request.GET.get("resource"))
        form_class = upload_form_class(resource)
        if request.method == "POST":
            form = form_class(request.POST, request.FILES)
            if form.is_valid():
                run = self._create_run(request, resource, form)
                return self._validate(request, run)
        else:
            form = form_class()
        from admin_customisations.models import ImportRun

        recent = ImportRun.objects.filter(user=request.user, resource=resource.name).order_by(
            "-pk"
        )[:5]
        param = {"resource": self.sheet_param(resource)}
        context = self._page_context(
            request,
            resource,
            f"Import {in_sentence(resource_label(resource))}",
            form=form,
            media=self.media + form.media,
            columns=resource.columns,
            template_csv_url=self._url("import_template", "csv", query=param),
            template_xlsx_url=self._url("import_template", "xlsx", query=param),
            max_file_mb=int(getattr(settings, "IMPORT_MAX_FILE_MB", 20)),
            recent_runs=[(run, self._url("import_run", run.pk)) for run in recent],
            description=getattr(resource, "description", ""),
        )
        return TemplateResponse(request, "admin/importing/upload.html", context)

    def _create_run(self, request, resource, form):
        from admin_customisations.models import ImportRun

        upload = form.cleaned_data["import_file"]
        run = ImportRun(
            resource=resource.name,
            original_name=Path(upload.name).name[:255],
            file_size=upload.size,
            delimiter=form.cleaned_data.get("delimiter") or "",
            options=form.options(),
            user=request.user,
        )
        run.file.save(f"import-{resource.name}{Path(upload.name).suffix.lower()}", upload)
        return run

    def _validate(self, request, run):
        """Validate inline (small files) or as a job; then show the preview."""
        from admin_customisations.importing.jobs import start_validation

        start_validation(run)
        return redirect(self._url("import_run", run.pk))

    # ---------------------------------------------------------------- preview
    def _run(self, request, run_id):
        from admin_customisations.models import ImportRun

        run = get_object_or_404(ImportRun.objects.select_related("job", "user"), pk=run_id)
        if not may_see_run(request.user, run):
            raise PermissionDenied
        resource = self.sheet_resource(run.resource)  # 404 when the run is another list's
        if not user_may(request.user, "view", model=resource.model):
            raise PermissionDenied
        return run, resource

    def import_run_view(self, request, run_id):
        if request.method != "GET":
            raise PermissionDenied  # the preview is read-only; confirming has its own URL
        run, resource = self._run(request, run_id)
        errors = run.errors or []
        page = Paginator(errors, ERRORS_PER_PAGE).get_page(request.GET.get("page"))
        running = run.job_id is not None and not run.job.is_finished
        may_confirm = (
            run.status == run.Status.VALID
            and run.user_id == request.user.pk
            and self.has_sheet_import_permission(request, resource)
        )
        param = self.sheet_param(resource)
        context = self._page_context(
            request,
            resource,
            f"Import #{run.pk}: {run.original_name}",
            run=run,
            running=running,
            job=run.job,
            progress_url=reverse("admin:job_progress", args=[run.job_id]) if running else "",
            job_url=run.job.get_absolute_url() if run.job_id else "",
            errors_page=page,
            errors_total=len(errors),
            errors_truncated=run.error_count > len(errors),
            may_confirm=may_confirm,
            nothing_to_do=run.status == run.Status.VALID
            and not (run.new_count or run.updated_count),
            delimiter_name=DELIMITER_NAMES.get(run.delimiter, run.delimiter or "—"),
            confirm_url=self._url("import_confirm", run.pk),
            upload_url=self._url("import", query={"resource": param}),
        )
        return TemplateResponse(request, "admin/importing/preview.html", context)

    # ---------------------------------------------------------------- confirm
    def import_confirm_view(self, request, run_id):
        from admin_customisations.importing.jobs import start_commit

        run, resource = self._run(request, run_id)
        if run.user_id != request.user.pk or not self.has_sheet_import_permission(
            request, resource
        ):
            raise PermissionDenied
        preview_url = self._url("import_run", run.pk)
        if run.status == run.Status.COMMITTED:
            self.message_user(
                request,
                f"Import #{run.pk} was already imported; nothing more was written.",
                messages.INFO,
            )
            return redirect(self._url("changelist"))
        if run.status == run.Status.COMMITTING:
            self.message_user(
                request,
                f"Import #{run.pk} is already being imported; nothing more was written.",
                messages.INFO,
            )
            return redirect(preview_url)
        if run.status != run.Status.VALID:
            self.message_user(
                request,
                f"Import #{run.pk} cannot be imported now ({run.get_status_display().lower()}).",
                messages.ERROR,
            )
            return redirect(preview_url)
        summary = start_commit(run)
        run.refresh_from_db()
        if summary.get("already"):  # a second confirm (double click, back button): harmless
            self.message_user(
                request,
                f"Import #{run.pk} is already {run.get_status_display().lower()}; "
                "nothing more was written.",
                messages.INFO,
            )
            return redirect(
                preview_url if run.status != run.Status.COMMITTED else self._url("changelist")
            )
        if summary.get("job") is not None and run.status == run.Status.COMMITTING:
            self.message_user(
                request,
                f"Import #{run.pk} runs in the background as job #{summary['job'].pk}: "
                "this page shows its progress.",
                messages.INFO,
            )
            return redirect(preview_url)  # the preview follows the job
        if run.status == run.Status.COMMITTED:
            self.message_user(request, committed_message(run, resource), messages.SUCCESS)
            return redirect(self._url("changelist"))
        self.message_user(
            request, run.message or "The import failed and nothing was imported.", messages.ERROR
        )
        return redirect(preview_url)

    # ---------------------------------------------------------------- template
    def import_template_view(self, request, fmt):
        from admin_customisations.importing.writers import EXPORT_FORMATS

        resource = self._import_resource(request, request.GET.get("resource"))
        if fmt not in EXPORT_FORMATS:
            raise Http404("Templates are CSV or XLSX.")
        headers = resource.headers()
        rows = example_rows(resource, headers)
        return file_response(fmt, f"{resource.name}-template.{fmt}", headers, rows)

    # ---------------------------------------------------------------- export
    def export_view(self, request):
        from admin_customisations.importing import exporting
        from admin_customisations.jobs.exports import export_or_start_job

        resource = self.sheet_resource(request.GET.get("resource"))
        if not self.has_sheet_export_permission(request, resource):
            raise PermissionDenied
        filters = exporting.changelist_filters(request)
        try:
            queryset = exporting.export_queryset(self, resource, request.user, filters)
            count = queryset.count()
        except exporting.BadFilters:
            self.message_user(
                request,
                "The list's filters are not valid any more; export the whole list or "
                "filter it again.",
                messages.ERROR,
            )
            return redirect(self._url("changelist"))
        headers = resource.headers()
        form = ExportForm(request.POST or None, headers=headers)
        if request.method == "POST" and form.is_valid():
            return export_or_start_job(
                model_admin=self,
                request=request,
                resource=resource,
                filters=filters,
                fmt=form.cleaned_data["format"],
                headers=[h for h in headers if h in form.cleaned_data["columns"]],
                queryset=queryset,
                total=count,
            )
        from admin_customisations.jobs.bulk import job_threshold

        changelist = self._url("changelist")
        context = self._page_context(
            request,
            resource,
            f"Export {in_sentence(resource_label(resource))}",
            form=form,
            media=self.media + form.media,
            count=count,
            filtered=bool(filters),
            changelist_url=f"{changelist}?{filters}" if filters else changelist,
            runs_as_job=count > job_threshold(),
            columns=resource.columns,
        )
        return TemplateResponse(request, "admin/importing/export.html", context)


# ------------------------------------------------------------------ helpers


def committed_message(run, resource) -> str:
    return (
        f"Imported {run.original_name} (import #{run.pk}): {run.new_count} new, "
        f"{run.updated_count} updated, {run.unchanged_count} unchanged "
        f"{in_sentence(resource_label(resource))}."
    )


def example_rows(resource, headers) -> list[list[str]]:
    """The rows of fixtures/examples/<name>.csv, in the resource's column order (a missing
    file gives the columns' own examples)."""
    path = resource.example_path() if hasattr(resource, "example_path") else None
    if path is not None and Path(path).is_file():
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            return [[(row.get(h) or "") for h in headers] for row in reader]
    return [[getattr(col, "example", "") or "" for col in resource.columns]]


def file_response(fmt, filename, headers, rows) -> HttpResponse:
    """A download of ``rows`` written by IO's writers (small files: built in memory)."""
    from admin_customisations.importing.writers import EXPORT_FORMATS

    spec = EXPORT_FORMATS[fmt]
    response = HttpResponse(content_type=spec.content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    spec.write(headers, rows, response)
    return response
