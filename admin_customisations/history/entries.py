"""Reading the change log: a page of entries with their diffs and object links.

For a page of ``ChangeLogEntry`` rows, ``describe_entries`` loads, per model on the page, the
historical records and the version before each one (two queries: the ids, then the rows by
primary key), whether each object still exists (one query), and the names of the objects the changed foreign keys point at (one query
per related model). The query count depends on how many models a page shows, never on how
much history there is.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import OuterRef, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, strip_tags
from django.utils.safestring import SafeString, mark_safe

from admin_customisations.history.changelog import history_model_of
from admin_customisations.history.diffs import FieldChange, RelatedNames, diff_records
from admin_customisations.history.undelete import undelete_url


@dataclass
class EntryDetails:
    """What the change log shows of one entry besides its own columns."""

    changes: list[FieldChange] = field(default_factory=list)
    exists: bool = False  # the object is still there
    record: object = None  # the historical record (None if it was archived)

    def summary_html(self, entry) -> SafeString:
        if entry.history_type == "+":
            return mark_safe("Created")
        if entry.history_type == "-":
            return mark_safe("Deleted")
        if not self.changes:
            return mark_safe("No field changes")
        return format_html_lines(self.changes)

    def summary_text(self, entry) -> str:
        return strip_tags(self.summary_html(entry).replace("<br>", "; "))


def format_html_lines(changes) -> SafeString:
    from django.utils.html import format_html_join

    return format_html_join(mark_safe("<br>"), "{}", ((c.as_html(),) for c in changes))


def describe_entries(entries) -> dict[int, EntryDetails]:
    """{entry id: EntryDetails} for a list of change log entries (see the module docstring)."""
    details = {entry.pk: EntryDetails() for entry in entries}
    by_type = defaultdict(list)
    for entry in entries:
        by_type[entry.content_type_id].append(entry)
    related = RelatedNames()
    pending = []
    for content_type_id, group in by_type.items():
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        if model is None:
            continue
        history_model = history_model_of(model)
        pk_name = model._meta.pk.attname
        previous = (
            history_model._base_manager.filter(
                **{pk_name: OuterRef(pk_name), "history_id__lt": OuterRef("history_id")}
            )
            .order_by("-history_id")
            .values("history_id")[:1]
        )
        page_ids = [e.history_id for e in group]
        previous_of = dict(
            history_model._base_manager.filter(history_id__in=page_ids)
            .annotate(previous_id=Subquery(previous))
            .values_list("history_id", "previous_id")
        )
        # the page's records and the versions before them, by primary key (an OR with the
        # subquery above made PostgreSQL read the whole history table)
        wanted = set(page_ids) | {pk for pk in previous_of.values() if pk}
        loaded = {
            r.history_id: r for r in history_model._base_manager.filter(history_id__in=wanted)
        }
        for history_id, record in loaded.items():
            record.previous_id = previous_of.get(history_id)
        records = {pk: loaded[pk] for pk in page_ids if pk in loaded}
        earlier = loaded
        alive = set(
            model._base_manager.filter(pk__in={e.object_id for e in group}).values_list(
                "pk", flat=True
            )
        )
        pairs, owners = [], []
        for entry in group:
            info = details[entry.pk]
            info.exists = entry.object_id in alive
            record = records.get(entry.history_id)
            info.record = record
            if record is None or entry.history_type != "~":
                continue
            pairs.append((earlier.get(record.previous_id), record))
            owners.append(info)
        pending.append((model, pairs, owners))
    # Foreign keys of every model on the page are resolved together.
    for model, pairs, owners in pending:
        for info, changes in zip(owners, diff_records(model, pairs, related=related), strict=True):
            info.changes = changes
    return details


def object_link(entry, info: EntryDetails, *, may_restore=frozenset()) -> SafeString:
    """The object's name linked to its page, or to this version when it is gone; a deletion
    of an object that is still gone also links to its restore page when the model is one of
    ``may_restore`` (the models whose deleted objects this user may undelete)."""
    link = _object_link(entry, info)
    model = ContentType.objects.get_for_id(entry.content_type_id).model_class()
    if entry.history_type == "-" and not info.exists and model in may_restore:
        url = undelete_url(model, entry.object_id)
        if url:
            return format_html('{} · <a href="{}">Restore…</a>', link, url)
    return link


def _object_link(entry, info: EntryDetails) -> SafeString:
    content_type = ContentType.objects.get_for_id(entry.content_type_id)
    text = entry.object_repr or f"{content_type.name} #{entry.object_id}"
    app, model = content_type.app_label, content_type.model
    try:
        if info.exists:
            url = reverse(f"admin:{app}_{model}_change", args=[entry.object_id])
        elif info.record is not None:
            url = reverse(
                f"admin:{app}_{model}_simple_history", args=[entry.object_id, entry.history_id]
            )
        else:
            return format_html("{}", text)
    except NoReverseMatch:
        return format_html("{}", text)
    return format_html('<a href="{}">{}</a>', url, text)
