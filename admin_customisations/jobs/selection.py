"""A job's selection: the changelist query (filters and search) or a page's ids.

The request never carries 500,000 ids: "select all" stores the changelist's
query string, and the worker rebuilds the same filtered queryset with the
requesting user's permissions.
"""

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import IGNORED_PARAMS
from django.http import QueryDict
from django.test import RequestFactory

from admin_customisations.models import JobItem


def describe_selection(request, queryset) -> dict:
    """What to store for this action's selection (a query, or the ids ticked on one page)."""
    if request.POST.get("select_across") == "1":
        query = QueryDict(request.META.get("QUERY_STRING", ""), mutable=True)
        for param in IGNORED_PARAMS:
            query.pop(param, None)
        return {"query": query.urlencode()}
    return {"ids": [int(pk) for pk in request.POST.getlist(ACTION_CHECKBOX_NAME)]}


def model_admin_for(label: str):
    """The registered ModelAdmin of ``app_label.model_name``."""
    for model, model_admin in admin.site._registry.items():
        if model._meta.label_lower == label:
            return model_admin
    raise LookupError(f"No admin is registered for {label}")


def request_as(user, query: str = ""):
    """A GET request to the changelist as ``user`` (what the worker evaluates permissions with)."""
    request = RequestFactory().get("/", data=QueryDict(query))
    request.user = user
    return request


def selected_queryset(job, model_admin, user):
    """The job's objects as a queryset (without ordering), rebuilt from its stored selection."""
    selection = job.selection or {}
    model = model_admin.model
    base = model._default_manager.all()
    if job.retry_of_id:
        failed = JobItem.objects.filter(
            job_id=job.retry_of_id, outcome=JobItem.Outcome.FAILED
        ).values("object_id")
        queryset = base.filter(pk__in=failed)
    elif "ids" in selection:
        queryset = base.filter(pk__in=selection["ids"])
    else:
        request = request_as(user, selection["query"])
        queryset = model_admin.get_changelist_instance(request).get_queryset(request)
    if selection.get("max_pk"):
        # Objects created by the job itself (e.g. split-off stock) are not part of the selection.
        queryset = queryset.filter(pk__lte=selection["max_pk"])
    return queryset.order_by()
