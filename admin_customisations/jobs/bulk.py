"""What a bulk-capable admin action declares, and the outcome of one object."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings


class Skip(Exception):  # noqa: N818  (a signal, not an error)
    """Raised by a per-object step when the object is already in the requested state."""


@dataclass(frozen=True)
class BulkSpec:
    """The parts of a ``form_action`` the job runner needs.

    ``each(obj, *, user, data)`` changes one object through a service; it raises
    ``Skip`` for an object that needs no change and ``ValidationError`` for one
    the service refuses. ``summary(count, data)`` words the inline success message.
    """

    name: str
    description: str
    form_class: type
    each: Callable[..., Any]
    permission: str = "change"
    summary: Callable[[int, dict], str] | None = None
    select_related: tuple[str, ...] = ()
    # Optional fast path for jobs: ``each_batch(objects, *, user, data)`` changes many objects
    # through a bulk service and returns {pk: (outcome, message)}, or None when it does not
    # apply to this form input (the runner then calls ``each`` per object). ``objects`` are
    # the chunk's rows, read and locked (``select_for_update``) in the chunk's transaction,
    # ``select_related`` prefetched: the service need not read them again.
    each_batch: Callable[..., Any] | None = None
    # ``each`` also receives ``selection=`` (the whole selection as a queryset), for steps
    # that act on a group of selected objects (merge the selected items of one part + place)
    pass_selection: bool = False


def job_threshold() -> int:
    """Selections larger than this run as a background job (setting BULK_JOB_THRESHOLD)."""
    return int(getattr(settings, "BULK_JOB_THRESHOLD", 200))


def chunk_size() -> int:
    return int(getattr(settings, "BULK_JOB_CHUNK_SIZE", 200))
