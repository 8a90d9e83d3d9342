"""The "Stock as of a date" page (Stock sidebar group): quantity per part, optionally per
location, held at a chosen moment, next to today's (inventory.selectors_as_of).

A read: the form is a GET, so a result can be bookmarked and shared. A question over more
stock history rows than ``STOCK_AS_OF_JOB_ROWS`` (default 100,000, a fifth of it per
location; docs/performance.md) is not answered on the page: a POST starts a background job of the job runner that writes the
table as CSV or XLSX, downloadable from the job's page. Permission: view on stock items
(``user_may``), checked here and again in the worker.
"""

import datetime
import tempfile

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from unfold.widgets import UnfoldAdminTextInputWidget

from admin_customisations.permissions import user_may
from inventory.models import Part, PartCategory, StockItem, StockLocation
from inventory.selectors_as_of import history_model, stock_as_of
from inventory.services.common import fmt

ACTION = "inventory.stockitem:__stock_as_of__"
PAGE_SIZE = 100
HEADERS = ["Part", "IPN", "Units", "Location", "Quantity then", "Quantity today", "Difference"]


# a question per location costs about five times one per part over the same history rows
# (a row per part and location, each summed twice and rendered): docs/performance.md
PER_LOCATION_COST = 5


def job_rows(*, per_location=False) -> int:
    """Questions over more history rows than this run as a background job."""
    limit = int(getattr(settings, "STOCK_AS_OF_JOB_ROWS", 100_000))
    return limit // PER_LOCATION_COST if per_location else limit


class StockAsOfForm(forms.Form):
    when = forms.DateTimeField(
        label="Date and time",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Stock as it was at this moment (your time zone).",
        error_messages={"invalid": "Enter a valid date and time, e.g. 2026-06-30 17:00."},
    )
    category = forms.ModelChoiceField(
        PartCategory.objects.order_by("pathstring"),
        required=False,
        help_text="Only parts in this category and its sub-categories.",
        error_messages={"invalid_choice": "This category does not exist (any more)."},
    )
    location = forms.ModelChoiceField(
        StockLocation.objects.order_by("pathstring"),
        required=False,
        help_text="Only stock that was (then) or is (today) in this location or below it.",
        error_messages={"invalid_choice": "This location does not exist (any more)."},
    )
    part = forms.CharField(
        required=False,
        max_length=100,
        help_text="One part only: its IPN or exact name.",
        widget=UnfoldAdminTextInputWidget(),
    )
    per_location = forms.BooleanField(required=False, label="Per location")

    def clean_when(self):
        when = self.cleaned_data["when"]
        if when > timezone.now():
            raise forms.ValidationError("Choose a moment in the past: the future is not known.")
        if when.year < 1900:
            raise forms.ValidationError("Choose a date after 1900.")
        return when

    def clean_part(self):
        text = self.cleaned_data["part"].strip()
        if not text:
            return None
        found = list(Part.objects.filter(Q(ipn=text) | Q(name=text)).order_by("pk")[:2])
        exact_ipn = [p for p in found if p.ipn == text]
        if len(exact_ipn) == 1:
            return exact_ipn[0]
        if len(found) == 1:
            return found[0]
        if not found:
            raise forms.ValidationError(f"No part has the IPN or name '{text}'.")
        raise forms.ValidationError(f"Several parts are called '{text}': enter the IPN.")

    def filters(self) -> dict:
        data = self.cleaned_data
        return {key: data[key] for key in ("part", "category", "location", "per_location")}

    def params(self) -> dict:
        """The question as JSON (a job's params)."""
        data = self.cleaned_data
        return {
            "when": data["when"].isoformat(),
            "part": data["part"].pk if data["part"] else None,
            "category": data["category"].pk if data["category"] else None,
            "location": data["location"].pk if data["location"] else None,
            "per_location": bool(data["per_location"]),
        }


def history_rows_in_scope(*, part=None, category=None, location=None, limit: int) -> int:
    """How many stock history rows the question reads, counted up to ``limit`` (+1): those
    of the parts asked about, else those that were ever in the location's subtree."""
    from inventory.selectors_as_of import _locations_in_scope, _parts_in_scope

    rows = history_model().objects.order_by()
    parts = _parts_in_scope(part, category)
    if parts is not None:
        rows = rows.filter(part_id__in=parts)
    elif location is not None:
        rows = rows.filter(location_id__in=_locations_in_scope(location))
    return rows.values("history_id")[: limit + 1].count()


def signed(value) -> str:
    if not value:
        return "0"
    return f"+{fmt(value)}" if value > 0 else f"−{fmt(-value)}"


def table_rows(rows):
    for row in rows:
        yield [
            row.part_name,
            row.part_ipn,
            row.units,
            row.location_path,
            row.quantity_then,
            row.quantity_now,
            row.difference,
        ]


def filename(when, fmt_key) -> str:
    return f"stock-as-of-{timezone.localtime(when):%Y-%m-%d-%H%M}.{fmt_key}"


def _download(rows, when, fmt_key):
    from admin_customisations.importing.writers import EXPORT_FORMATS

    export = EXPORT_FORMATS[fmt_key]
    response = HttpResponse(content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename(when, fmt_key)}"'
    export.write(HEADERS, table_rows(rows), response)
    return response


def stock_as_of_view(model_admin, request):
    user = request.user
    if not user_may(user, "view", model=StockItem):
        raise PermissionDenied
    source = request.POST if request.method == "POST" else request.GET
    bound = request.method == "POST" or "when" in request.GET
    form = StockAsOfForm(source if bound else None)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": StockItem._meta,
        "title": "Stock as of a date",
        "form": form,
        "formats": [("csv", "CSV"), ("xlsx", "XLSX")],
    }
    if not bound or not form.is_valid():
        status = 400 if bound else 200
        return TemplateResponse(request, "inventory/stock_as_of.html", context, status=status)
    data = form.cleaned_data
    fmt_key = source.get("format", "")
    if request.method == "POST":
        if fmt_key not in ("csv", "xlsx"):
            fmt_key = "csv"
        job = start_job(user=user, params=form.params(), fmt_key=fmt_key, when=data["when"])
        model_admin.message_user(
            request,
            format_html(
                "The table is being written in the background as <a href='{}'>job #{}</a>; "
                "download it from there when it is ready.",
                job.get_absolute_url(),
                job.pk,
            ),
            messages.SUCCESS,
        )
        return redirect(job.get_absolute_url())
    limit = job_rows(per_location=data["per_location"])
    scope = {key: data[key] for key in ("part", "category", "location")}
    large = history_rows_in_scope(**scope, limit=limit) > limit
    context["large"] = large
    context["job_rows"] = f"{limit:,}"
    context["hidden"] = [
        (name, source.get(name)) for name in form.fields if source.get(name) not in (None, "")
    ]
    if large:
        return TemplateResponse(request, "inventory/stock_as_of.html", context)
    rows = stock_as_of(when=data["when"], **form.filters())
    if fmt_key in ("csv", "xlsx"):
        return _download(rows, data["when"], fmt_key)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("p"))
    query = request.GET.copy()
    query.pop("p", None)
    query.pop("format", None)
    context.update(
        page=page,
        query=query.urlencode(),
        rows=[
            {
                "row": row,
                "then": fmt(row.quantity_then),
                "now": fmt(row.quantity_now),
                "difference": signed(row.difference),
            }
            for row in page.object_list
        ],
        per_location=data["per_location"],
        when=data["when"],
    )
    return TemplateResponse(request, "inventory/stock_as_of.html", context)


# ---------------------------------------------------------------- the background job


def start_job(*, user, params, fmt_key, when):
    from admin_customisations.jobs.runner import enqueue
    from admin_customisations.models import BackgroundJob

    job = BackgroundJob.objects.create(
        name=f"Stock as of {timezone.localtime(when):%Y-%m-%d %H:%M}"[:200],
        task_name="stockroom.run_bulk_job",
        action=ACTION,
        params={**params, "format": fmt_key},
        selection={},
        total=1,
        created_by=user,
    )
    enqueue(job)
    return job


def run_job(job) -> None:
    """Write the job's table (called by the job runner for ``ACTION``)."""
    from admin_customisations.importing.writers import EXPORT_FORMATS
    from admin_customisations.models import BackgroundJob

    finish = BackgroundJob.finish
    user = job.created_by
    if user is None or not user_may(user, "view", model=StockItem):
        finish(job.pk, BackgroundJob.Status.FAILED, "Not permitted: you may no longer view stock.")
        return
    params = job.params or {}
    try:
        when = datetime.datetime.fromisoformat(params["when"])
        filters = {
            "part": Part.objects.get(pk=params["part"]) if params.get("part") else None,
            "category": PartCategory.objects.get(pk=params["category"])
            if params.get("category")
            else None,
            "location": StockLocation.objects.get(pk=params["location"])
            if params.get("location")
            else None,
        }
    except (KeyError, ValueError, TypeError):
        finish(job.pk, BackgroundJob.Status.FAILED, "The question of this job is not valid.")
        return
    except (Part.DoesNotExist, PartCategory.DoesNotExist, StockLocation.DoesNotExist):
        finish(
            job.pk,
            BackgroundJob.Status.FAILED,
            "A part, category or location asked about was deleted.",
        )
        return
    fmt_key = params.get("format") if params.get("format") in EXPORT_FORMATS else "csv"
    rows = stock_as_of(when=when, per_location=bool(params.get("per_location")), **filters)
    with tempfile.TemporaryFile() as handle:
        EXPORT_FORMATS[fmt_key].write(HEADERS, table_rows(rows), handle)
        handle.seek(0)
        if job.result_file:
            job.result_file.delete(save=False)
        job.result_file.save(f"job-{job.pk}-{filename(when, fmt_key)}", File(handle), save=False)
    count = len(rows)
    BackgroundJob.objects.filter(pk=job.pk).update(
        result_file=job.result_file.name, total=1, done=1, succeeded=1, result={"rows": count}
    )
    finish(
        job.pk, BackgroundJob.Status.SUCCEEDED, f"{count} row{'s' if count != 1 else ''} written."
    )
