"""The one export code path, used inline (small exports) and by the export job.

``export_queryset`` rebuilds the changelist the user was looking at (filters and search,
from the preserved query string, with the admin's own queryset: object visibility as the
list shows it) and narrows the resource's queryset to it; ``write_export`` writes the
chosen columns through IO's writers (typed cells, formula neutralisation) to a file.
"""

from __future__ import annotations

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import (
    FieldDoesNotExist,
    FieldError,
    SuspiciousOperation,
    ValidationError,
)
from django.http import QueryDict

from admin_customisations.jobs.selection import request_as

# Parameters of the export page itself, never changelist filters.
OWN_PARAMS = ("resource", "_changelist_filters", "format", "columns")


class BadFilters(Exception):  # noqa: N818
    """The preserved changelist filters no longer make a valid changelist."""


def changelist_filters(request) -> str:
    """The changelist query the export was opened from: ``_changelist_filters`` (as Django's
    admin preserves it), or else the page's own query string minus the export's parameters
    (links of the form ``export/?category=7`` keep working)."""
    preserved = request.GET.get("_changelist_filters")
    if preserved is not None:
        query = QueryDict(preserved, mutable=True)
    else:
        query = request.GET.copy()
    for name in OWN_PARAMS:
        query.pop(name, None)
    return query.urlencode()


def link_to(model, host_model) -> str:
    """The foreign key from ``model`` to ``host_model`` (purchase order line -> order)."""
    for field in model._meta.concrete_fields:
        if field.is_relation and field.related_model is host_model:
            return field.name
    raise LookupError(f"{model._meta.label} has no foreign key to {host_model._meta.label}")


def export_queryset(model_admin, resource, user, filters: str):
    """The resource's rows for the changelist ``filters`` as ``user`` sees them."""
    request = request_as(user, filters)
    try:
        listed = model_admin.get_changelist_instance(request).get_queryset(request)
    except (
        IncorrectLookupParameters,
        FieldError,
        FieldDoesNotExist,
        ValidationError,
        SuspiciousOperation,  # a lookup the admin does not allow (DisallowedModelAdminLookup)
    ) as error:
        raise BadFilters(str(error)) from error
    ids = listed.order_by().values("pk")
    base = resource.queryset(user)
    if resource.model is model_admin.model:
        queryset = base.filter(pk__in=ids)
    else:
        queryset = base.filter(**{f"{link_to(resource.model, model_admin.model)}__in": ids})
    if not queryset.query.order_by:
        queryset = queryset.order_by("pk")
    return queryset


def write_export(resource, queryset, headers, fmt, fileobj, *, progress=None) -> int:
    """Write the chosen ``headers`` of every row of ``queryset``; returns the row count.

    ``progress(n)`` is called every 2,000 rows (the job's progress bar)."""
    from admin_customisations.importing.writers import EXPORT_FORMATS

    by_header = {column.header: column for column in resource.columns}
    columns = [by_header[h] for h in headers]
    written = 0

    def rows():
        nonlocal written
        for row in resource.export_rows(queryset, columns):
            written += 1
            if progress is not None and written % 2000 == 0:
                progress(written)
            yield row

    EXPORT_FORMATS[fmt].write(headers, rows(), fileobj)
    return written


def export_filename(resource, fmt) -> str:
    from django.utils import timezone

    return f"{resource.name}-{timezone.localdate():%Y-%m-%d}.{fmt}"
