"""Build order admin: list (progress, badges, filters), create/edit through the services,
the change page's tables, and every action's form, success and refusal (changing nothing)."""

import datetime
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from builds.choices import BuildStatus
from builds.models import BuildItem, BuildLine, BuildOrder
from builds.services.build import (
    build_allocate,
    build_order_cancel,
    build_order_create,
    build_order_issue,
    build_output_complete,
    build_output_create,
)
from inventory.choices import StockStatus
from inventory.models import StockItem
from tests.builds.test_build_support import (  # noqa: F401
    D,
    build_state,
    reload,
    shop_fixture,
    user_fixture,
)
from tests.factories import BomItemFactory, PartFactory, StockLocationFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/builds/buildorder/"


def change_url(build):
    return f"{CHANGELIST}{build.pk}/change/"


def detail_url(build, action):
    return f"{CHANGELIST}{build.pk}/{action.replace('_', '-')}/"


def post_action(client, action, builds, **fields):
    """Run a changelist action; with ``fields`` the intermediate form is submitted."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(b.pk) for b in builds], "index": "0"}
    if fields:
        data["apply"] = "1"
        data.update({k: ("" if v is None else str(v)) for k, v in fields.items()})
    return client.post(CHANGELIST, data)


def post_detail(client, build, action, **fields):
    data = {"apply": "1", **{k: ("" if v is None else str(v)) for k, v in fields.items()}}
    return client.post(detail_url(build, action), data)


def message_texts(client) -> list[str]:
    response = client.get(CHANGELIST)
    return [str(m) for m in response.context["messages"]]


# -- list ---------------------------------------------------------------------------------------


def test_changelist_shows_progress_status_and_overdue(admin_client_root, shop):
    build = shop.build(10, target_date=timezone.localdate() - datetime.timedelta(days=1))
    [output] = build_output_create(build=build, quantity=4, user=shop.user)
    build_output_complete(build=build, output=output, user=shop.user)
    shop.build(5)
    content = admin_client_root.get(CHANGELIST).content.decode()
    rows = {
        reference: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
        for row in content.split("<tr")[1:]
        for reference in re.findall(r"BO-\d{4}", row)[:1]
    }
    assert re.search(r"BO-0001 .*4 / 10 .*Production .*Overdue", rows["BO-0001"])
    assert re.search(r"BO-0002 .*0 / 5 .*Pending", rows["BO-0002"])
    assert "Overdue" not in rows["BO-0002"]
    assert 'style="width: 40%"' in content


def references(client, query) -> set[str]:
    content = client.get(CHANGELIST + query).content.decode()
    return set(re.findall(r"BO-\d{4}", content))


def test_changelist_filters(admin_client_root, superuser, shop):
    group = Group.objects.create(name="Assembly team")
    superuser.groups.add(group)
    today = timezone.localdate()
    shop.build(1, responsible_user=superuser)  # BO-0001
    shop.build(1, responsible_group=group, target_date=today)  # BO-0002
    other = shop.build(1, responsible_user=shop.user)  # BO-0003
    build_order_issue(build=other, user=shop.user)
    gadget = PartFactory(name="Gadget", assembly=True)
    build_order_create(part=gadget, quantity=1, user=shop.user)  # BO-0004
    assert references(admin_client_root, "?status=20") == {"BO-0003"}
    assert references(admin_client_root, "?overdue=yes") == {"BO-0002"}
    assert references(admin_client_root, "?responsible=me") == {"BO-0001", "BO-0002"}
    assert references(admin_client_root, f"?responsible=user-{shop.user.pk}") == {"BO-0003"}
    assert references(admin_client_root, f"?responsible=group-{group.pk}") == {"BO-0002"}
    assert references(admin_client_root, f"?part__id__exact={gadget.pk}") == {"BO-0004"}


# -- add and change ---------------------------------------------------------------------------


def test_add_creates_through_the_service(admin_client_root, superuser, shop):
    response = admin_client_root.post(
        f"{CHANGELIST}add/",
        {"part": shop.widget.pk, "quantity": "10", "reference": "", "title": "From the admin"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    build = BuildOrder.objects.get()
    assert (build.reference, build.quantity, build.title) == ("BO-0001", 10, "From the admin")
    assert build.destination is None
    assert {line.bom_item.sub_part.name: line.quantity for line in build.lines.all()} == {
        "Resistor": D(20),
        "Screw": D(44),
    }
    assert build.history.get().history_user == superuser
    assert BuildLine.history.filter(build_id=build.pk, history_user=superuser).count() == 2


def test_add_shows_service_refusals_on_the_form(admin_client_root, shop):
    shop.widget.active = False
    shop.widget.save()
    response = admin_client_root.post(
        f"{CHANGELIST}add/", {"part": shop.widget.pk, "quantity": "10", "reference": "X-1"}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "inactive: reactivate it" in content
    assert not BuildOrder.objects.exists()


def test_add_refuses_a_reference_off_the_pattern(admin_client_root, shop):
    response = admin_client_root.post(
        f"{CHANGELIST}add/", {"part": shop.widget.pk, "quantity": "1", "reference": "X-1"}
    )
    assert response.status_code == 200
    assert "does not match the pattern" in response.content.decode()
    assert not BuildOrder.objects.exists()


def change_data(build, **changes):
    data = {
        "quantity": build.quantity,
        "title": build.title,
        "take_from": build.take_from_id or "",
        "destination": build.destination_id or "",
        "parent": build.parent_id or "",
        "target_date": build.target_date or "",
        "batch": build.batch,
        "responsible_user": build.responsible_user_id or "",
        "responsible_group": build.responsible_group_id or "",
        "notes": build.notes,
    }
    data.update(changes)
    return data


def test_change_form_edits_through_the_services(admin_client_root, superuser, shop):
    build = shop.build(10)
    response = admin_client_root.post(
        change_url(build), change_data(build, quantity=5, title="Halved")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    build.refresh_from_db()
    assert (build.quantity, build.title) == (5, "Halved")
    assert {line.bom_item.sub_part.name: line.quantity for line in build.lines.all()} == {
        "Resistor": D(10),
        "Screw": D(22),
    }
    reasons = list(build.history.order_by("history_id").values_list("history_change_reason"))
    assert reasons[-2:] == [("Quantity 10 → 5",), ("Edited: title",)]
    assert build.history.latest("history_id").history_user == superuser


def test_change_form_refusal_changes_nothing(admin_client_root, shop):
    build = shop.build(10)
    structural = StockLocationFactory(structural=True)
    before = build_state()
    response = admin_client_root.post(
        change_url(build), change_data(build, quantity=5, destination=structural.pk)
    )
    assert response.status_code == 200
    assert "structural" in response.content.decode()
    assert build_state() == before


def test_change_page_shows_lines_allocations_outputs_children_and_actions(admin_client_root, shop):
    build = shop.build(10, take_from=shop.store)
    build_allocate(
        line=shop.line(build, shop.resistor), stock_item=shop.resistors, quantity=12, user=shop.user
    )
    build_output_create(build=build, quantity=3, user=shop.user)
    child = shop.build(2, parent=build)
    response = admin_client_root.get(change_url(build))
    assert response.status_code == 200
    content = response.content.decode()
    cells = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", content))
    # Resistor: required 20, allocated 12, used 0, available 100 − 12 = 88
    assert "| Resistor 20 12 0 88 8 to allocate" in cells
    assert "| Screw 44 0 0 50 44 to allocate" in cells
    assert "| Resistor 100 × Resistor Store/Shelf 12 –" in cells
    assert "– 3 in production Finished goods" in cells
    assert child.reference in cells
    for action in ("issue_builds", "allocate_stock", "complete_output", "create_child_builds"):
        assert detail_url(build, action) in content


def test_change_page_query_count_does_not_grow_with_lines(admin_client_root, shop):
    small = shop.build(1)
    build_allocate(
        line=shop.line(small, shop.resistor), stock_item=shop.resistors, quantity=1, user=shop.user
    )
    build_output_create(build=small, quantity=1, user=shop.user)
    admin_client_root.get(change_url(small))
    with CaptureQueriesContext(connection) as few:
        admin_client_root.get(change_url(small))
    for n in range(5):
        BomItemFactory(part=shop.widget, sub_part=PartFactory(name=f"Extra {n}"))
    big = shop.build(1)
    for line in big.lines.all()[:4]:
        item = shop.stock(line.bom_item.sub_part, 5)
        build_allocate(line=line, stock_item=item, quantity=1, user=shop.user)
    build_output_create(build=big, quantity=1, user=shop.user)
    build_output_create(build=big, quantity=1, user=shop.user)
    with CaptureQueriesContext(connection) as many:
        admin_client_root.get(change_url(big))
    assert len(many) == len(few)


def test_builds_with_stock_history_cannot_be_deleted(admin_client_root, shop):
    empty, busy = shop.build(1), shop.build(1)
    build_output_create(build=busy, quantity=1, user=shop.user)
    assert admin_client_root.get(f"{CHANGELIST}{busy.pk}/delete/").status_code == 403
    response = admin_client_root.post(f"{CHANGELIST}{empty.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not BuildOrder.objects.filter(pk=empty.pk).exists()
    assert BuildLine.history.filter(build_id=empty.pk, history_type="-").count() == 2


def test_import_is_not_offered(admin_client_root):
    # build orders have no spreadsheet resource: no import page (the admin reads the path as
    # an object id and redirects) and no link to one
    assert admin_client_root.get(f"{CHANGELIST}import/").status_code in (302, 404)
    assert f"{CHANGELIST}import/" not in admin_client_root.get(CHANGELIST).content.decode()


# -- actions: every one shows its form, on the list and on the change page ---------------------

ACTIONS = [
    "issue_builds",
    "hold_builds",
    "cancel_builds",
    "set_build_quantity",
    "create_outputs",
    "complete_output",
    "scrap_output",
    "delete_output",
    "allocate_stock",
    "unallocate_stock",
    "auto_allocate",
    "trim_allocations",
    "complete_builds",
    "create_child_builds",
]


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_shows_its_form_first(admin_client_root, shop, action):
    build = shop.build(10)
    for response in (
        post_action(admin_client_root, action, [build]),
        admin_client_root.get(detail_url(build, action)),
    ):
        assert response.status_code == 200
        content = response.content.decode()
        assert 'name="apply"' in content
        assert build.reference in content


def test_one_build_actions_refuse_a_wider_selection(admin_client_root, shop):
    first, second = shop.build(), shop.build()
    before = build_state()
    response = post_action(admin_client_root, "allocate_stock", [first, second])
    assert response.status_code == 302
    assert "Select exactly one build order" in " ".join(message_texts(admin_client_root))
    assert build_state() == before


def refused_on_form(response, text):
    assert response.status_code == 200
    assert text in response.content.decode()


def test_issue_hold_and_cancel_selected_builds(admin_client_root, shop):
    first, second = shop.build(), shop.build()
    response = post_action(admin_client_root, "issue_builds", [first, second], confirm=1)
    assert response.status_code == 302
    assert {b.status for b in BuildOrder.objects.all()} == {BuildStatus.PRODUCTION}
    assert "Issued 2 build orders." in message_texts(admin_client_root)
    post_action(admin_client_root, "hold_builds", [first], confirm=1)
    assert reload(first).status == BuildStatus.ON_HOLD
    build_output_create(build=second, quantity=1, user=shop.user)
    post_action(admin_client_root, "cancel_builds", [second], delete_outputs="on")
    assert reload(second).status == BuildStatus.CANCELLED
    assert not StockItem.objects.filter(part=shop.widget).exists()


def test_one_refusal_in_a_selection_changes_nothing(admin_client_root, shop):
    pending = shop.build()
    cancelled = build_order_cancel(build=shop.build(), user=shop.user)
    before = build_state()
    response = post_action(admin_client_root, "issue_builds", [pending, cancelled], confirm=1)
    assert response.status_code == 200
    assert cancelled.reference in response.content.decode()
    assert build_state() == before


def test_builds_already_in_the_requested_state_are_skipped(admin_client_root, shop):
    pending = shop.build()
    running = build_order_issue(build=shop.build(), user=shop.user)
    history_before = running.history.count()
    response = post_action(admin_client_root, "issue_builds", [pending, running], confirm=1)
    assert response.status_code == 302
    assert "Issued 1 build order. 1 already up to date, skipped." in message_texts(
        admin_client_root
    )
    assert {b.status for b in BuildOrder.objects.all()} == {BuildStatus.PRODUCTION}
    assert running.history.count() == history_before  # a skip writes nothing


def test_set_quantity_action(admin_client_root, shop):
    build = shop.build(10)
    response = post_detail(admin_client_root, build, "set_build_quantity", quantity=3)
    assert response.status_code == 302
    assert response.url == change_url(build)
    assert shop.line(build, shop.screw).quantity == D("13.2")
    before = build_state()
    refused_on_form(
        post_detail(admin_client_root, build, "set_build_quantity", quantity=0),
        "Ensure this value is greater than or equal to 1",
    )
    assert build_state() == before


def test_output_actions(admin_client_root, shop):
    build = shop.build(10)
    response = post_detail(
        admin_client_root, build, "create_outputs", quantity=4, location=shop.elsewhere.pk
    )
    assert response.status_code == 302
    output = StockItem.objects.get(build=build)
    assert (output.quantity, output.location, output.is_building) == (D(4), shop.elsewhere, True)
    response = post_detail(
        admin_client_root,
        build,
        "complete_output",
        output=output.pk,
        quantity=3,
        status=StockStatus.OK,
        location=shop.finished.pk,
    )
    assert response.status_code == 302
    assert reload(build).completed == 3
    response = post_detail(admin_client_root, build, "scrap_output", output=output.pk)
    assert response.status_code == 302
    assert reload(output).status == StockStatus.REJECTED
    [spare] = build_output_create(build=build, quantity=1, user=shop.user)
    assert (
        post_detail(admin_client_root, build, "delete_output", output=spare.pk).status_code == 302
    )
    assert reload(spare) is None


def test_output_action_refusals_change_nothing(admin_client_root, shop):
    shop.widget.trackable = True
    shop.widget.save()
    build = shop.build(2)
    before = build_state()
    refused_on_form(
        post_detail(admin_client_root, build, "create_outputs", quantity=2),
        "trackable: enter a serial number for each output",
    )
    assert build_state() == before
    [output, _] = build_output_create(build=build, quantity=2, serials="1-2", user=shop.user)
    other = shop.build(1)
    before = build_state()
    refused_on_form(
        post_detail(
            admin_client_root,
            build,
            "complete_output",
            output=output.pk,
            quantity=2,
            status=StockStatus.OK,
        ),
        "is only 1: cannot complete 2",
    )
    refused_on_form(
        post_detail(admin_client_root, other, "scrap_output", output=output.pk),
        "Select a valid choice",  # another build's output is not offered
    )
    assert build_state() == before


def test_allocation_actions(admin_client_root, shop):
    build = shop.build(10)
    line = shop.line(build, shop.resistor)
    response = post_detail(
        admin_client_root,
        build,
        "allocate_stock",
        line=line.pk,
        stock_item=shop.resistors.pk,
        quantity=25,
    )
    assert response.status_code == 302
    assert BuildItem.objects.get().quantity == D(25)
    response = post_detail(admin_client_root, build, "trim_allocations", confirm=1)
    assert response.status_code == 302
    assert BuildItem.objects.get().quantity == D(20)
    allocation = BuildItem.objects.get()
    response = post_detail(
        admin_client_root, build, "unallocate_stock", allocation=allocation.pk, quantity=5
    )
    assert response.status_code == 302
    assert BuildItem.objects.get().quantity == D(15)
    response = post_detail(admin_client_root, build, "auto_allocate", interchangeable="on")
    assert response.status_code == 302
    assert {a.stock_item_id: a.quantity for a in BuildItem.objects.all()} == {
        shop.resistors.pk: D(20),
        shop.screws.pk: D(44),
    }
    response = post_detail(admin_client_root, build, "unallocate_stock", line=line.pk)
    assert response.status_code == 302
    assert list(BuildItem.objects.values_list("stock_item", flat=True)) == [shop.screws.pk]


def test_allocation_action_refusals_change_nothing(admin_client_root, shop):
    build = shop.build(10)
    other = shop.build(10)
    build_allocate(
        line=shop.line(other, shop.resistor), stock_item=shop.resistors, quantity=90, user=shop.user
    )
    before = build_state()
    refused_on_form(
        post_detail(
            admin_client_root,
            build,
            "allocate_stock",
            line=shop.line(build, shop.resistor).pk,
            stock_item=shop.resistors.pk,
            quantity=20,
        ),
        "Only 10 of 100 × Resistor is unallocated: cannot allocate 20",
    )
    refused_on_form(
        post_detail(
            admin_client_root,
            build,
            "allocate_stock",
            line=shop.line(build, shop.resistor).pk,
            stock_item=shop.screws.pk,
            quantity=1,
        ),
        "cannot be used for the",
    )
    refused_on_form(
        post_detail(admin_client_root, build, "unallocate_stock"),
        "Nothing of this is allocated to BO-0001",
    )
    assert build_state() == before


def test_auto_allocate_reports_lines_left_to_choose(admin_client_root, shop):
    shop.stock(shop.resistor, 5)
    build = shop.build(10)
    post_detail(admin_client_root, build, "auto_allocate")
    [message] = [m for m in message_texts(admin_client_root) if "Allocated" in m]
    assert "Allocated 44 in 1 allocation to BO-0001." in message
    assert "Left for you to choose" in message and "Resistor" in message


def test_complete_build_action(admin_client_root, shop):
    build = shop.build(2)
    build_allocate(
        line=shop.line(build, shop.resistor), stock_item=shop.resistors, quantity=4, user=shop.user
    )
    [output] = build_output_create(build=build, quantity=1, user=shop.user)
    build_output_complete(build=build, output=output, user=shop.user)
    before = build_state()
    refused_on_form(
        post_detail(admin_client_root, build, "complete_builds"), "Only 1 of 2 are built"
    )
    refused_on_form(
        post_detail(admin_client_root, build, "complete_builds", accept_incomplete="on"),
        "Not all required stock is allocated",
    )
    assert build_state() == before
    response = post_detail(
        admin_client_root,
        build,
        "complete_builds",
        accept_incomplete="on",
        accept_unallocated="on",
    )
    assert response.status_code == 302
    build.refresh_from_db()
    assert build.status == BuildStatus.COMPLETE
    assert reload(shop.resistors).quantity == D(96)


def test_child_builds_action(admin_client_root, shop):
    board = PartFactory(name="Board", assembly=True)
    BomItemFactory(part=shop.widget, sub_part=board, quantity=2)
    build = shop.build(10)
    response = post_detail(admin_client_root, build, "create_child_builds", confirm=1)
    assert response.status_code == 302
    child = BuildOrder.objects.get(parent=build)
    assert (child.part, child.quantity) == (board, 20)
    assert any(
        "Created child builds of BO-0001: BO-0002 (20 ×" in m
        for m in message_texts(admin_client_root)
    )
    post_detail(admin_client_root, build, "create_child_builds", confirm=1)
    assert "No sub-assembly of BO-0001 is short" in " ".join(message_texts(admin_client_root))


# -- permissions -----------------------------------------------------------------------------


def test_actions_need_their_build_permissions(client, shop):
    clerk = UserFactory(username="clerk")
    clerk.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="builds",
            codename__in=["view_buildorder", "change_buildorder"],
        )
    )
    client.force_login(clerk)
    build = shop.build(10)
    assert client.get(detail_url(build, "issue_builds")).status_code == 403
    response = client.get(change_url(build))
    assert response.status_code == 200
    assert detail_url(build, "issue_builds") not in response.content.decode()
    assert detail_url(build, "set_build_quantity") in response.content.decode()
    assert "issue_builds" not in client.get(CHANGELIST).content.decode()
    clerk.user_permissions.add(Permission.objects.get(codename="issue_buildorder"))
    clerk = type(clerk).objects.get(pk=clerk.pk)
    client.force_login(clerk)
    response = post_detail(client, build, "issue_builds", confirm=1)
    assert response.status_code == 302
    assert reload(build).status == BuildStatus.PRODUCTION


def test_detail_actions_of_unknown_builds_are_not_found(admin_client_root, shop):
    assert admin_client_root.get(f"{CHANGELIST}999999/issue-builds/").status_code == 404
    assert admin_client_root.get(f"{CHANGELIST}abc/issue-builds/").status_code == 404
