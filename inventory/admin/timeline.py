"""Human-readable rendering of a stock item's tracking entries, with links."""

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from inventory.choices import StockStatus

TIMELINE_LIMIT = 50


def _link(url_name, pk, text):
    try:
        return format_html('<a href="{}">{}</a>', reverse(url_name, args=[pk]), text)
    except NoReverseMatch:
        return text


def _status(code):
    try:
        return StockStatus(code).label
    except ValueError:
        return str(code)


def describe_deltas(deltas: dict):
    """The details line of one entry: quantities, places, linked documents."""
    parts = []
    if "added" in deltas:
        parts.append(format_html("added {}", deltas["added"]))
    if "removed" in deltas:
        parts.append(format_html("removed {}", deltas["removed"]))
    if "quantity" in deltas:
        if "previous_quantity" in deltas:
            parts.append(
                format_html("quantity {} → {}", deltas["previous_quantity"], deltas["quantity"])
            )
        else:
            parts.append(format_html("quantity now {}", deltas["quantity"]))
    if deltas.get("previous_location_path"):
        parts.append(
            format_html(
                "from {}",
                _link(
                    "admin:inventory_stocklocation_change",
                    deltas["previous_location"],
                    deltas["previous_location_path"],
                ),
            )
        )
    if deltas.get("location"):
        parts.append(
            format_html(
                "at {}",
                _link(
                    "admin:inventory_stocklocation_change",
                    deltas["location"],
                    deltas.get("location_path") or "location",
                ),
            )
        )
    if "status" in deltas:
        previous = f"{_status(deltas['previous_status'])} → " if "previous_status" in deltas else ""
        parts.append(format_html("status {}{}", previous, _status(deltas["status"])))
    if deltas.get("customer"):
        parts.append(
            format_html(
                "customer {}",
                _link(
                    "admin:orders_company_change",
                    deltas["customer"],
                    deltas.get("customer_name", "customer"),
                ),
            )
        )
    if deltas.get("stockitem"):
        parts.append(
            format_html(
                "related item {}",
                _link(
                    "admin:inventory_stockitem_change",
                    deltas["stockitem"],
                    f"#{deltas['stockitem']}",
                ),
            )
        )
    if deltas.get("serial"):
        parts.append(format_html("serial {}", deltas["serial"]))
    if deltas.get("serials"):
        serials = deltas["serials"]
        parts.append(
            format_html("serials {}{}", ", ".join(serials[:10]), " …" if len(serials) > 10 else "")
        )
    if deltas.get("merged"):
        parts.append(format_html("merged items {}", ", ".join(f"#{pk}" for pk in deltas["merged"])))
    known = {
        "added",
        "removed",
        "quantity",
        "previous_quantity",
        "location",
        "location_path",
        "previous_location",
        "previous_location_path",
        "status",
        "previous_status",
        "customer",
        "customer_name",
        "stockitem",
        "serial",
        "serials",
        "merged",
    }
    for key, value in deltas.items():
        if key not in known:
            parts.append(
                format_html("{}: {}", key.replace("_", " "), value if value is not None else "–")
            )
    return format_html_join(" · ", "{}", ((p,) for p in parts))


def render_timeline(item) -> str:
    """The item's tracking entries, newest first (at most TIMELINE_LIMIT, with a link to all)."""
    entries = list(
        item.tracking.select_related("user").order_by("-date", "-pk")[: TIMELINE_LIMIT + 1]
    )
    rows = [
        {
            "title": entry.get_tracking_type_display(),
            "date": entry.date,
            "user": entry.user,
            "details": describe_deltas(entry.deltas or {}),
            "notes": entry.notes,
        }
        for entry in entries[:TIMELINE_LIMIT]
    ]
    more = ""
    if len(entries) > TIMELINE_LIMIT:
        more = (
            reverse("admin:inventory_stockitemtracking_changelist") + f"?item__id__exact={item.pk}"
        )
    return render_to_string("inventory/stock_timeline.html", {"entries": rows, "more": more})
