"""Part, category and location pages at scale (issue 11).

Query counts are equal at two data sizes (no N+1, no per-row query), and the maintained
figures ``Part.in_stock_total`` and ``StockLocation.items_stored`` stay right under every
stock service (inventory.figures).
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from builds.services.build import build_order_complete, build_order_create
from builds.services.build_outputs import build_output_complete, build_output_create
from builds.services.build_stock import build_allocate
from inventory.admin.part_tabs import part_tabs
from inventory.choices import StockStatus
from inventory.figures import deferred_refresh, refresh_location_counts, refresh_part_stock
from inventory.models import Part, StockItem, StockLocation
from inventory.selectors import annotate_part_figures, parts_with_stock
from inventory.services import stock as stock_services
from orders.services import purchase as purchase_services
from orders.services import sales as sales_services
from tests import factories

pytestmark = pytest.mark.django_db


def figure(part) -> Decimal:
    return Part.objects.values_list("in_stock_total", flat=True).get(pk=part.pk)


def recomputed(part) -> Decimal:
    total = StockItem.objects.in_stock().filter(part=part).aggregate(t=Sum("quantity"))["t"]
    return total or Decimal(0)


def stored(location) -> int:
    return StockLocation.objects.values_list("items_stored", flat=True).get(pk=location.pk)


def assert_figures_right():
    for part in Part.objects.all():
        assert figure(part) == recomputed(part), part
    for location in StockLocation.objects.all():
        assert stored(location) == StockItem.objects.filter(location=location).count(), location


# ---------------------------------------------------------------- query counts


def grow(scale: int):
    """Add ``scale`` × (category, location, 3 parts with stock) to the database."""
    for i in range(scale):
        category = factories.PartCategoryFactory()
        child = factories.PartCategoryFactory(parent=category)
        location = factories.StockLocationFactory()
        bin_ = factories.StockLocationFactory(parent=location)
        for j in range(3):
            part = factories.PartFactory(
                category=child,
                ipn=f"S{scale}-{i}-{j}",
                name=f"Widget {scale} {i} {j}",
                minimum_stock=100,
                assembly=j == 0,
            )
            factories.StockItemFactory(part=part, location=bin_, quantity=5)
            factories.StockItemFactory(part=part, location=location, quantity=2)


PAGES = [
    "/admin/inventory/part/",
    "/admin/inventory/part/?low_stock=yes",
    "/admin/inventory/part/?has_stock=yes",
    "/admin/inventory/part/?has_stock=no",
    "/admin/inventory/part/?q=widget",
    "/admin/inventory/part/?o=6",  # sorted by in stock
    "/admin/inventory/partcategory/",
    "/admin/inventory/stocklocation/",
    "/admin/autocomplete/?app_label=inventory&model_name=stockitem&field_name=part&term=wid",
    "/admin/autocomplete/?app_label=inventory&model_name=stockitem&field_name=location&term=",
]


def query_counts(client, urls):
    counts = {}
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url] = len(ctx.captured_queries)
    return counts


def test_list_pages_and_autocompletes_cost_the_same_queries_at_two_sizes(admin_client_root):
    grow(3)
    query_counts(admin_client_root, PAGES)  # warm per-process caches (content types)
    small = query_counts(admin_client_root, PAGES)
    grow(12)
    large = query_counts(admin_client_root, PAGES)
    assert large == small
    assert max(small.values()) <= 15


def test_change_pages_cost_the_same_queries_at_two_sizes(admin_client_root):
    def pages():
        part = Part.objects.filter(assembly=False).order_by("-pk").first()
        assembly = Part.objects.filter(assembly=True).order_by("-pk").first()
        category, location = part.category, StockItem.objects.filter(part=part)[0].location
        return [
            f"/admin/inventory/part/{part.pk}/change/",
            f"/admin/inventory/part/{assembly.pk}/change/",
            f"/admin/inventory/part/{assembly.pk}/bom/",
            f"/admin/inventory/part/{part.pk}/history/",
            f"/admin/inventory/partcategory/{category.parent_id}/change/",
            f"/admin/inventory/stocklocation/{location.pk}/change/",
        ]

    grow(2)
    query_counts(admin_client_root, pages())  # warm per-process caches (content types)
    small = list(query_counts(admin_client_root, pages()).values())
    grow(10)
    large = list(query_counts(admin_client_root, pages()).values())
    assert large == small


def test_list_figures_are_those_of_the_whole_queryset_annotation():
    grow(2)
    part = Part.objects.order_by("pk").first()
    factories.StockItemFactory(part=part, quantity=7, status=StockStatus.DESTROYED)
    parts = list(Part.objects.order_by("pk"))
    annotate_part_figures(parts)
    expected = {p.pk: p for p in parts_with_stock()}
    for p in parts:
        want = expected[p.pk]
        got = (p.in_stock, p.allocated, p.available, p.on_order, p.low_stock)
        assert got == (want.in_stock, want.allocated, want.available, want.on_order, want.low_stock)


def test_filters_use_the_maintained_figure(admin_client_root):
    low = factories.PartFactory(name="Low", minimum_stock=10)
    factories.StockItemFactory(part=low, quantity=3)
    ok = factories.PartFactory(name="Ok", minimum_stock=10)
    factories.StockItemFactory(part=ok, quantity=30)
    none = factories.PartFactory(name="None")

    def names(query):
        response = admin_client_root.get(f"/admin/inventory/part/?{query}")
        return {p.name for p in response.context["cl"].result_list}

    assert names("low_stock=yes") == {"Low"}
    assert names("has_stock=yes") == {"Low", "Ok"}
    assert names("has_stock=no") == {none.name}


def test_part_autocomplete_matches_ipn_or_name_prefix_ignoring_case(admin_client_root):
    factories.PartFactory(name="Resistor 10k", ipn="R-10K")
    factories.PartFactory(name="Capacitor", ipn="C-100")
    factories.PartFactory(name="Big resistor", ipn="X-1")
    url = "/admin/autocomplete/?app_label=inventory&model_name=stockitem&field_name=part&term="
    found = [r["text"] for r in admin_client_root.get(url + "res").json()["results"]]
    assert found == ["R-10K | Resistor 10k"]
    found = [r["text"] for r in admin_client_root.get(url + "c-1").json()["results"]]
    assert found == ["C-100 | Capacitor"]


def test_part_list_search_finds_substrings_of_name_ipn_keywords_and_description(
    admin_client_root,
):
    factories.PartFactory(name="Big resistor", ipn="X-1")
    factories.PartFactory(name="Cap", description="ceramic, 10 V")
    factories.PartFactory(name="Other")
    response = admin_client_root.get("/admin/inventory/part/?q=resist")
    assert {p.name for p in response.context["cl"].result_list} == {"Big resistor"}
    response = admin_client_root.get("/admin/inventory/part/?q=ceramic")
    assert {p.name for p in response.context["cl"].result_list} == {"Cap"}


def test_location_counts_cover_the_subtree_and_match_the_stock_list_filter(admin_client_root):
    root = factories.StockLocationFactory(name="Root")
    child = factories.StockLocationFactory(name="Child", parent=root)
    lookalike = factories.StockLocationFactory(name="Other")
    part = factories.PartFactory()
    factories.StockItemFactory(part=part, location=root)
    factories.StockItemFactory(part=part, location=child)
    factories.StockItemFactory(part=part, location=lookalike)
    response = admin_client_root.get("/admin/inventory/stocklocation/")
    counts = {loc.name: loc.item_count for loc in response.context["cl"].result_list}
    assert counts == {"Root": 2, "Child": 1, "Other": 1}
    listed = admin_client_root.get(f"/admin/inventory/stockitem/?location={root.pk}")
    assert listed.context["cl"].result_count == 2


# ---------------------------------------------------------------- the maintained figure


@pytest.fixture
def user():
    return factories.UserFactory(username="stocker")


@pytest.fixture
def part():
    return factories.PartFactory(name="Widget", salable=True, trackable=False)


@pytest.fixture
def location():
    return factories.StockLocationFactory(name="Shelf")


@pytest.fixture
def item(part, location, user):
    return stock_services.stock_item_create(part=part, quantity=10, location=location, user=user)[0]


def test_create_sets_the_figure(item, part):
    assert figure(part) == 10
    assert_figures_right()


@pytest.mark.parametrize(
    "operation",
    [
        lambda item, user, location: stock_services.stock_item_add(
            item=item, quantity=5, user=user
        ),
        lambda item, user, location: stock_services.stock_item_remove(
            item=item, quantity=4, user=user
        ),
        lambda item, user, location: stock_services.stock_item_remove(
            item=item, quantity=10, user=user
        ),
        lambda item, user, location: stock_services.stock_item_count(
            item=item, quantity=3, user=user
        ),
        lambda item, user, location: stock_services.stock_item_split(
            item=item, quantity=4, user=user
        ),
        lambda item, user, location: stock_services.stock_item_move(
            item=item, location=factories.StockLocationFactory(), quantity=3, user=user
        ),
        lambda item, user, location: stock_services.stock_item_change_status(
            item=item, status=StockStatus.DESTROYED, user=user
        ),
        lambda item, user, location: stock_services.stock_item_assign_to_customer(
            item=item, customer=factories.CompanyFactory(is_customer=True), quantity=4, user=user
        ),
        lambda item, user, location: stock_services.stock_item_delete(item=item, user=user),
    ],
    ids=["add", "remove", "remove all", "count", "split", "move", "status", "customer", "delete"],
)
def test_each_stock_service_keeps_the_figure_right(operation, item, user, location):
    operation(item, user, location)
    assert_figures_right()


def test_merge_return_install_and_uninstall_keep_the_figure_right(item, part, user, location):
    other = stock_services.stock_item_create(part=part, quantity=5, location=location, user=user)[0]
    stock_services.stock_items_merge(items=[item, other], user=user)
    assert figure(part) == 15
    customer = factories.CompanyFactory(is_customer=True)
    sent = stock_services.stock_item_assign_to_customer(
        item=StockItem.objects.get(part=part), customer=customer, user=user, quantity=5
    )
    assert figure(part) == 10
    stock_services.stock_item_return_from_customer(item=sent, location=location, user=user)
    assert_figures_right()
    assembly = factories.PartFactory(name="Box", assembly=True, trackable=True)
    box = stock_services.stock_item_create(
        part=assembly, quantity=1, serials="1", location=location, user=user
    )[0]
    installed = stock_services.stock_item_install(
        item=StockItem.objects.filter(part=part).first(), into=box, quantity=2, user=user
    )
    assert_figures_right()
    stock_services.stock_item_uninstall(item=installed, location=location, user=user)
    assert_figures_right()


def test_shipping_a_sales_order_keeps_the_figure_right(item, part, user):
    customer = factories.CompanyFactory(is_customer=True)
    order = sales_services.sales_order_create(customer=customer, user=user)
    line = sales_services.sales_order_add_line(
        order=order, part=part, quantity=4, unit_price=Decimal(1), user=user
    )
    sales_services.sales_order_issue(order=order, user=user)
    shipment = sales_services.shipment_create(order=order, user=user)
    sales_services.sales_order_allocate(
        line=line, item=item, quantity=4, user=user, shipment=shipment
    )
    sales_services.shipment_complete(shipment=shipment, user=user)
    assert figure(part) == 6
    assert_figures_right()


def test_receiving_a_purchase_order_keeps_the_figure_right(part, user, location):
    supplier_part = factories.SupplierPartFactory(part=part)
    order = factories.PurchaseOrderFactory(supplier=supplier_part.supplier)
    line = factories.PurchaseOrderLineFactory(order=order, supplier_part=supplier_part, quantity=3)
    purchase_services.purchase_order_place(order=order, user=user)
    purchase_services.purchase_order_receive_line(
        line=line, quantity=3, location=location, user=user
    )
    assert figure(part) == 3 * supplier_part.pack_quantity
    assert_figures_right()


def test_building_keeps_the_figures_of_components_and_assembly_right(user, location):
    assembly = factories.PartFactory(name="Kit", assembly=True)
    component = factories.PartFactory(name="Screw")
    factories.BomItemFactory(part=assembly, sub_part=component, quantity=2)
    screws = stock_services.stock_item_create(
        part=component, quantity=10, location=location, user=user
    )[0]
    build = build_order_create(part=assembly, quantity=1, user=user, destination=location)
    output = build_output_create(build=build, quantity=1, user=user)[0]
    build_allocate(line=build.lines.get(), stock_item=screws, quantity=2, user=user)
    build_output_complete(build=build, output=output, user=user)
    build_order_complete(build=build, user=user)
    assert figure(component) == 8
    assert figure(assembly) == 1
    assert_figures_right()


def test_refresh_repairs_figures_written_around_save(part, location):
    StockItem.objects.bulk_create([StockItem(part=part, location=location, quantity=4)])
    assert figure(part) == 0
    refresh_part_stock()
    assert figure(part) == 4


# ---------------------------------------------------------------- the location counter


def test_move_split_and_delete_keep_both_locations_counters_right(item, user, location):
    assert stored(location) == 1
    bin_ = factories.StockLocationFactory(name="Bin")
    stock_services.stock_item_move(item=item, location=bin_, quantity=3, user=user)
    assert (stored(location), stored(bin_)) == (1, 1)
    stock_services.stock_item_move(item=StockItem.objects.get(pk=item.pk), location=bin_, user=user)
    assert stored(location) == 0
    assert_figures_right()
    for moved in StockItem.objects.filter(location=bin_):
        stock_services.stock_item_delete(item=moved, user=user)
    assert stored(bin_) == 0
    assert_figures_right()


def test_bulk_move_keeps_both_locations_counters_right(part, location, user):
    from inventory.services.stock_bulk import stock_items_move

    items = [
        stock_services.stock_item_create(part=part, quantity=2, location=location, user=user)[0]
        for _ in range(3)
    ]
    bin_ = factories.StockLocationFactory(name="Bin")
    stock_items_move(
        items=StockItem.objects.filter(pk__in=[i.pk for i in items]), location=bin_, user=user
    )
    assert (stored(location), stored(bin_)) == (0, 3)
    assert_figures_right()


def test_deferred_refresh_counts_locations_once_at_the_end(part, location, user):
    with deferred_refresh():
        stock_services.stock_item_create(part=part, quantity=1, location=location, user=user)
        stock_services.stock_item_create(part=part, quantity=1, location=location, user=user)
        assert stored(location) == 0  # not yet
    assert stored(location) == 2
    assert_figures_right()


def test_location_list_counts_come_from_the_counters(admin_client_root, part):
    root = factories.StockLocationFactory(name="Root")
    child = factories.StockLocationFactory(name="Child", parent=root)
    StockItem.objects.bulk_create(
        [StockItem(part=part, location=loc, quantity=1) for loc in (root, child, child)]
    )
    refresh_location_counts()  # bulk_create bypasses save(): the repair path
    response = admin_client_root.get("/admin/inventory/stocklocation/")
    counts = {loc.name: loc.item_count for loc in response.context["cl"].result_list}
    assert counts["Root"] == 3 and counts["Child"] == 2


def test_refresh_repairs_location_counters_written_around_save(part, location):
    StockItem.objects.bulk_create([StockItem(part=part, location=location, quantity=4)])
    assert stored(location) == 0
    refresh_location_counts([location.pk])
    assert stored(location) == 1


# ---------------------------------------------------------------- the bulk services' deltas


@pytest.fixture
def mixed(user):
    """Items of two parts in two locations, in and out of stock, with fractional quantities."""
    screw = factories.PartFactory(name="Screw")
    nut = factories.PartFactory(name="Nut")
    shelf = factories.StockLocationFactory(name="Shelf A")
    bin_ = factories.StockLocationFactory(name="Bin B")
    customer = factories.CompanyFactory(is_customer=True)
    rows = [
        (screw, shelf, Decimal("2.5"), StockStatus.OK, None),
        (screw, shelf, Decimal(4), StockStatus.ATTENTION, None),
        (screw, bin_, Decimal(3), StockStatus.DESTROYED, None),
        (screw, bin_, Decimal(0), StockStatus.OK, None),
        (screw, shelf, Decimal(7), StockStatus.ATTENTION, customer),  # refused: with a customer
        (nut, shelf, Decimal("1.25"), StockStatus.LOST, None),
        (nut, bin_, Decimal(6), StockStatus.DAMAGED, None),
        (nut, bin_, Decimal(5), StockStatus.OK, None),
    ]
    items = [
        factories.StockItemFactory(
            part=part, location=where, quantity=qty, status=status, customer=customer_
        )
        for part, where, qty, status, customer_ in rows
    ]
    assert_figures_right()
    return {"items": items, "screw": screw, "nut": nut, "shelf": shelf, "bin": bin_}


def _bulk_status(items, status, user):
    from inventory.services.stock_bulk import stock_items_change_status

    return stock_items_change_status(
        items=StockItem.objects.filter(pk__in=[i.pk for i in items]), status=status, user=user
    )


@pytest.mark.parametrize(
    "status",
    [StockStatus.DESTROYED, StockStatus.OK, StockStatus.DAMAGED, StockStatus.REJECTED],
    ids=["out of stock", "into stock", "available to available", "unavailable"],
)
def test_bulk_status_change_keeps_the_figures_right(mixed, user, status):
    outcome = _bulk_status(mixed["items"], status, user)
    assert outcome.refused and len(outcome.refused) == 1  # the item with the customer
    assert all(StockItem.objects.get(pk=pk).status == status for pk in outcome.skipped)
    expected_changed = len(mixed["items"]) - 1 - len(outcome.skipped)
    assert len(outcome.changed) == expected_changed
    assert_figures_right()


def test_bulk_status_change_moves_each_part_by_its_items(mixed, user):
    screw, nut = mixed["screw"], mixed["nut"]
    assert (figure(screw), figure(nut)) == (Decimal("6.5"), Decimal(11))
    _bulk_status(mixed["items"], StockStatus.QUARANTINED, user)
    assert (figure(screw), figure(nut)) == (0, 0)
    _bulk_status(mixed["items"], StockStatus.OK, user)
    # every held item is back; the customer's item (refused) and the empty one count nothing
    assert (figure(screw), figure(nut)) == (Decimal("9.5"), Decimal("12.25"))
    assert_figures_right()


def test_bulk_move_keeps_every_location_counter_right(mixed, user):
    from inventory.services.stock_bulk import stock_items_move

    target = factories.StockLocationFactory(name="Dock")
    items = StockItem.objects.filter(pk__in=[i.pk for i in mixed["items"]])
    outcome = stock_items_move(items=items, location=mixed["bin"], user=user)
    # already in the bin: skipped; with a customer or lost (not in stock): refused
    assert (len(outcome.changed), len(outcome.skipped), len(outcome.refused)) == (2, 4, 2)
    assert_figures_right()
    outcome = stock_items_move(items=items, location=target, user=user)
    assert stored(target) == len(outcome.changed) == 4
    assert_figures_right()


def test_bulk_services_apply_deltas_not_a_recount(mixed, user):
    """A figure that is off before a bulk write stays off by as much (the write added its
    deltas without summing the part's other items); the recompute repairs it."""
    screw, shelf = mixed["screw"], mixed["shelf"]
    Part.objects.filter(pk=screw.pk).update(in_stock_total=100)
    StockLocation.objects.filter(pk=shelf.pk).update(items_stored=10)
    _bulk_status(mixed["items"], StockStatus.DESTROYED, user)  # screw: -6.5
    assert figure(screw) == Decimal("93.5")
    from inventory.services.stock_bulk import stock_items_move

    stock_items_move(
        items=StockItem.objects.filter(location=mixed["bin"], quantity__gt=0, status=10),
        location=shelf,
        user=user,
    )
    assert stored(shelf) == 10  # none was moved: no item is OK any more
    _bulk_status(StockItem.objects.filter(location=mixed["bin"]), StockStatus.OK, user)
    moved = stock_items_move(
        items=StockItem.objects.filter(location=mixed["bin"], quantity__gt=0),
        location=shelf,
        user=user,
    )
    assert stored(shelf) == 10 + len(moved.changed)
    refresh_part_stock([screw.pk])
    refresh_location_counts([shelf.pk])
    assert_figures_right()


def test_a_location_counter_that_was_wrong_never_goes_below_zero(part, location, user):
    from inventory.services.stock_bulk import stock_items_move

    StockItem.objects.bulk_create([StockItem(part=part, location=location, quantity=1)] * 1)
    assert stored(location) == 0  # bulk_create: counter not maintained
    bin_ = factories.StockLocationFactory(name="Bin")
    stock_items_move(items=StockItem.objects.filter(part=part), location=bin_, user=user)
    assert (stored(location), stored(bin_)) == (0, 1)


# ---------------------------------------------------------------- the part page's tabs


def part_with(n: int):
    """A part with ``n`` of everything its tabs list: stock items (each held by a sales
    order and a build), purchase and sales order lines, build orders, BOM lines using it."""
    from builds.models import BuildItem, BuildLine
    from orders.models import SalesOrderAllocation

    part = factories.PartFactory(
        assembly=True, component=True, purchaseable=True, salable=True, name=f"Tabbed {n}"
    )
    location = factories.StockLocationFactory()
    supplier_part = factories.SupplierPartFactory(part=part)
    for i in range(n):
        item = factories.StockItemFactory(part=part, location=location, quantity=10)
        line = factories.SalesOrderLineFactory(part=part)
        SalesOrderAllocation.objects.create(line=line, item=item, quantity=1)
        factories.PurchaseOrderLineFactory(
            supplier_part=supplier_part,
            order=factories.PurchaseOrderFactory(supplier=supplier_part.supplier),
        )
        build = factories.BuildOrderFactory(part=part)
        bom_item = factories.BomItemFactory(sub_part=part)
        build_line = BuildLine.objects.create(build=build, bom_item=bom_item, quantity=1)
        BuildItem.objects.create(build_line=build_line, stock_item=item, quantity=1)
        part.description = f"change {i}"
        part.save()  # a history record
    return part


TAB_SLUGS = [tab.slug for tab in part_tabs()]  # every lazy tab of the part page


def tab_urls(part):
    from django.urls import reverse

    change = reverse("admin:inventory_part_change", args=[part.pk])
    tabs = [reverse("admin:inventory_part_tab", args=[part.pk, slug]) for slug in TAB_SLUGS]
    return [change, *tabs, f"{tabs[0]}?stock-page=2"]


def test_part_tabs_cost_the_same_queries_for_5_and_60_of_everything(admin_client_root):
    small, large = part_with(5), part_with(60)
    query_counts(admin_client_root, tab_urls(small))  # warm per-process caches
    small_counts = list(query_counts(admin_client_root, tab_urls(small)).values())
    large_counts = list(query_counts(admin_client_root, tab_urls(large)).values())
    assert large_counts == small_counts
    assert max(small_counts[1:]) <= 12  # a tab: session, user, part, permissions, its page


def test_a_tab_page_reads_one_page_of_rows_and_counts_nothing(admin_client_root):
    part = part_with(30)
    url = tab_urls(part)[1]  # the stock tab
    with CaptureQueriesContext(connection) as ctx:
        assert admin_client_root.get(url).status_code == 200
    stock_queries = [q["sql"] for q in ctx.captured_queries if '"inventory_stockitem"' in q["sql"]]
    assert stock_queries and all("LIMIT 26" in sql for sql in stock_queries)
    # (the signed-in user comes with the inbox's unread count: notifications/auth.py)
    counting = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"]]
    assert all(sql.startswith('SELECT "auth_user"') for sql in counting)
    assert not any("inventory_stockitem" in sql for sql in counting)
