"""Writing the change log (``ChangeLogEntry``) alongside simple-history.

Every historical record gets one log row, written by the database from the record itself
(``INSERT INTO changelog … SELECT … FROM <history table>``), in the same transaction:

* records saved one by one: simple-history's ``post_create_historical_record`` signal;
* records written in bulk: ``inventory.history_signals.bulk_history_written``, sent by every
  bulk writer (``announcing_bulk_history``);
* anything else (an old database, rows written by raw SQL): ``catch_up()`` copies the records
  newer than the newest logged one; ``generate_data`` and the migration that created the log
  call it, and so does ``manage.py sync_change_log``.

The object's searchable name (``object_repr``: name, IPN, reference, SKU…) is computed by the
same SQL on every path, from the record and the rows it points at (``OBJECT_NAMES``).
"""

from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from django.db.models import CharField, F, Func, IntegerField, Value
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Substr
from simple_history.models import registered_models

from admin_customisations.history.models import ChangeLogEntry

# The fields (paths on the historical model) that name an object, by model label. The first
# non-empty ones are joined with " · ". A model not listed uses name / reference / title.
OBJECT_NAMES: dict[str, tuple[str, ...]] = {
    "admin_customisations.backgroundjob": ("name",),
    "admin_customisations.grouprole": ("group__name",),
    "inventory.partcategory": ("parent__pathstring", "name"),
    "inventory.part": ("ipn", "name", "revision"),
    "inventory.partparametertemplate": ("name",),
    "inventory.partparameter": ("part__ipn", "part__name", "template__name"),
    "inventory.stocklocation": ("parent__pathstring", "name"),
    "inventory.stockitem": ("part__ipn", "part__name", "serial", "batch"),
    "inventory.stockitemtracking": ("item__part__ipn", "item__part__name", "item__serial"),
    "builds.bomitem": ("part__name", "sub_part__ipn", "sub_part__name"),
    "builds.bomitemsubstitute": ("bom_item__part__name", "part__name"),
    "builds.buildorder": ("reference", "part__ipn", "part__name", "title"),
    "builds.buildline": ("build__reference", "bom_item__sub_part__name"),
    "builds.builditem": ("build_line__build__reference", "stock_item__part__name"),
    "orders.company": ("name",),
    "orders.contact": ("company__name", "name"),
    "orders.address": ("company__name", "title"),
    "orders.manufacturerpart": ("manufacturer__name", "mpn", "part__name"),
    "orders.supplierpart": ("supplier__name", "sku", "part__name"),
    "orders.supplierpricebreak": ("supplier_part__supplier__name", "supplier_part__sku"),
    "orders.purchaseorder": ("reference", "supplier__name"),
    "orders.purchaseorderline": ("order__reference", "supplier_part__sku"),
    "orders.purchaseorderextraline": ("order__reference", "reference"),
    "orders.returnorder": ("reference", "customer__name"),
    "orders.returnorderline": ("order__reference", "item__part__name"),
    "orders.salesorder": ("reference", "customer__name"),
    "orders.salesorderline": ("order__reference", "part__name"),
    "orders.salesorderextraline": ("order__reference", "reference"),
    "orders.salesordershipment": ("order__reference", "reference"),
    "orders.salesorderallocation": ("line__order__reference", "item__part__name"),
}
_DEFAULT_NAMES = ("name", "reference", "title")
SEPARATOR = " · "

LOG_FIELDS = (
    "content_type",
    "history_id",
    "object_id",
    "history_date",
    "history_type",
    "user",
    "reason",
    "object_repr",
)


def tracked_models() -> list:
    """Every model with simple-history, in a stable order."""
    return sorted(registered_models.values(), key=lambda m: m._meta.label_lower)


def history_model_of(model):
    return (
        model._meta.simple_history_manager_attribute
        and getattr(model, model._meta.simple_history_manager_attribute).model
    )


def _name_paths(model) -> tuple[str, ...]:
    paths = OBJECT_NAMES.get(model._meta.label_lower)
    if paths is not None:
        return paths
    names = {f.name for f in model._meta.concrete_fields}
    return tuple(n for n in _DEFAULT_NAMES if n in names)


class _Piece(Func):
    """``' · ' || value`` for a non-empty value, else '' (NULL propagates through ``||``)."""

    template = "COALESCE('" + SEPARATOR + "' || NULLIF(%(expressions)s, ''), '')"
    output_field = CharField()


class _Joined(Func):
    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = CharField()


def _name_expression(model):
    """SQL naming the object: its non-empty name fields joined with " · ", or "<model> #<id>"."""
    pieces = [_Piece(Cast(F(path), CharField())) for path in _name_paths(model)]
    fallback = Concat(
        Value(f"{model._meta.verbose_name} #"), Cast(F(model._meta.pk.attname), CharField())
    )
    if not pieces:
        return fallback
    joined = _Joined(*pieces) if len(pieces) > 1 else pieces[0]
    named = NullIf(Substr(joined, len(SEPARATOR) + 1), Value(""))
    return Coalesce(named, fallback, output_field=CharField())


def _select(history_model, model, using, **filters):
    content_type = ContentType.objects.db_manager(using).get_for_model(model)
    return (
        history_model._base_manager.using(using)
        .filter(**filters)
        .order_by()
        .annotate(
            log_content_type=Cast(Value(content_type.pk), IntegerField()),
            log_reason=Substr(Coalesce(F("history_change_reason"), Value("")), 1, 255),
            log_repr=Substr(_name_expression(model), 1, 200),
        )
        .values_list(
            "log_content_type",
            "history_id",
            model._meta.pk.attname,
            "history_date",
            "history_type",
            "history_user_id",
            "log_reason",
            "log_repr",
        )
    )


def _copy(history_model, using, **filters) -> int:
    """INSERT the log rows of the records of ``history_model`` matching ``filters``."""
    model = history_model.instance_type
    using = using or router.db_for_write(ChangeLogEntry)
    sql, params = _select(history_model, model, using, **filters).query.sql_with_params()
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(ChangeLogEntry._meta.db_table)
    columns = ", ".join(quote(ChangeLogEntry._meta.get_field(name).column) for name in LOG_FIELDS)
    # Rows already logged (a bulk capture that overlapped another) are skipped.
    conflict = f" ON CONFLICT ({quote('content_type_id')}, {quote('history_id')}) DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {sql}{conflict}", params)
        inserted = cursor.rowcount
    return max(inserted, 0)


def log_record(sender, history_instance, using=None, **kwargs) -> None:
    """``post_create_historical_record``: log one record saved one by one."""
    _copy(type(history_instance), using, history_id=history_instance.history_id)


def log_bulk(sender, after_id, using=None, **kwargs) -> None:
    """``bulk_history_written``: log the records of ``sender`` newer than ``after_id``."""
    _copy(sender, using, history_id__gt=after_id)


def relabel(records, *, user, reason: str) -> None:
    """Give the historical ``records`` (a queryset) and their log entries ``user`` and
    ``reason`` (a revert names itself on the rows the service wrote)."""
    model = records.model.instance_type
    ids = list(records.values_list("history_id", flat=True))
    records.update(history_change_reason=reason, history_user_id=user.pk)
    ChangeLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), history_id__in=ids
    ).update(reason=reason[:255], user_id=user.pk)


def catch_up(using=None) -> int:
    """Log every historical record not logged yet (newer than each model's newest logged
    record). Returns how many rows were written."""
    written = 0
    for model in tracked_models():
        history_model = history_model_of(model)
        content_type = ContentType.objects.db_manager(using).get_for_model(model)
        newest = (
            ChangeLogEntry.objects.using(using)
            .filter(content_type=content_type)
            .order_by("-history_id")
            .values_list("history_id", flat=True)
            .first()
        )
        written += _copy(history_model, using, history_id__gt=newest or 0)
    return written


def connect() -> None:
    from simple_history.signals import post_create_historical_record

    from inventory.history_signals import bulk_history_written

    post_create_historical_record.connect(log_record, dispatch_uid="stockroom_change_log")
    bulk_history_written.connect(log_bulk, dispatch_uid="stockroom_change_log_bulk")
