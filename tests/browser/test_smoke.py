"""Browser smoke: every demo account uses the admin in a real Chromium.

Each account logs in through the login form, then opens every changelist, the first
object's change page, its history page and one history version of every registered
model, the import and export pages of every list that has them, and a few intermediate
action forms. The admin account also opens, for purchase, sales and return orders and
builds, one order's page in each status, every detail action page offered (once per
action: the place, issue, allocate, ship, receive … forms) and a delete page. A page fails
when it logs a JavaScript error (console error or uncaught exception), answers with a
status the account's role does not explain (200 where the admin grants the page, 403 where
it does not), loads a sub-resource with a 4xx/5xx, or has no <title> or <h1>; a detail
action page also fails when it redirects instead of showing its form, and the part and
stock lists fail when their table is wider than its container at 1,440 px (docs/stock.md,
"List layout"). Every failure is collected and reported together, one line each.

The run also saves the screenshots the README shows (docs/screenshots/: the admin's home
page and a part's page), overwriting them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from admin_customisations.permission_table import DEMO_USERS, permission_matrix
from fixtures.accounts import DEMO_ACCOUNTS, ensure_demo_accounts
from fixtures.demo.load import load_demo_data

pytestmark = pytest.mark.browser

PASSWORDS = {username: password for username, password, _group, _su in DEMO_ACCOUNTS}
SCREENSHOTS = {  # (username, page name) -> file name; a few, to look at by eye
    ("admin", "index"): "admin-index.png",
    ("admin", "changelist inventory.stockitem"): "admin-stockitem-list.png",
    ("admin", "change inventory.part"): "admin-part-change.png",
    ("allaccess", "action inventory.stockitem move_stock"): "allaccess-stock-move.png",
    ("reader", "changelist orders.purchaseorder"): "reader-purchaseorder-list.png",
    ("engineer", "changelist orders.purchaseorder"): "engineer-purchaseorder-forbidden.png",
    ("allaccess", "import inventory.part"): "allaccess-part-import.png",
    ("allaccess", "export inventory.part"): "allaccess-part-export.png",
}


# (username, page name) -> file under docs/screenshots/, shown in the README
DOC_SCREENSHOTS = {
    ("admin", "index"): "dashboard.png",
    ("admin", "part page"): "part.png",
}
DOCS_SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DOC_PART_IPN = "PR-0100"  # a demo part with stock, a BOM, builds and sales orders
VIEWPORT = {"width": 1440, "height": 900}
# lists that must fit the viewport's width without scrolling sideways
FIT_LISTS = {"changelist inventory.part", "changelist inventory.stockitem"}
OVERFLOW_JS = """() => {
    // what scrolls sideways: the table's scroll container (unfold's simplebar) or the page;
    // unfold's layout rows overhang their container by design (negative margins, visible)
    const table = document.querySelector('#result_list');
    if (!table) return null;
    const wide = [];
    const nodes = [];
    for (let node = table.parentElement; node; node = node.parentElement) nodes.push(node);
    for (const node of nodes) {
        const scrolls = node === document.documentElement
            || ['auto', 'scroll'].includes(getComputedStyle(node).overflowX);
        if (scrolls && node.scrollWidth > node.clientWidth + 1) {
            const name = node.id || String(node.className).split(' ')[0] || '';
            wide.push(`${node.tagName.toLowerCase()} ${name}: ${node.scrollWidth}px`
                + ` in ${node.clientWidth}px`);
        }
    }
    return wide;
}"""


def _order_models():
    from builds.models import BuildOrder
    from orders.models import PurchaseOrder, ReturnOrder, SalesOrder

    return [PurchaseOrder, SalesOrder, ReturnOrder, BuildOrder]


def order_page_visits(user) -> list:
    """For the order and build admins: one object's page per status, each detail action
    page offered (the first object offering it) and the first object's delete page."""
    request = _request_for(user)
    visits = []
    for model in _order_models():
        model_admin = admin.site._registry[model]
        label = model._meta.label_lower
        info = model._meta.app_label, model._meta.model_name
        seen_actions = set()
        firsts = model._default_manager.order_by("status", "pk")
        by_status = {}
        for obj in firsts:
            by_status.setdefault(obj.status, obj)
        for status, obj in sorted(by_status.items()):
            if not model_admin.has_view_or_change_permission(request, obj):
                continue
            change = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
            visits.append(Visit(f"{label} {obj} (status {status})", change, 200))
            for found in model_admin.get_actions_detail(request, obj.pk):
                if found.action_name in seen_actions:
                    continue
                seen_actions.add(found.action_name)
                url = reverse(f"admin:{found.action_name}", args=[obj.pk])
                visits.append(
                    Visit(f"detail action {found.action_name} on {obj}", url, 200, detail=True)
                )
        first = model._default_manager.order_by("pk").first()
        if first is not None and model_admin.has_delete_permission(request, first):
            url = reverse("admin:{}_{}_delete".format(*info), args=[first.pk])
            visits.append(Visit(f"delete {label}", url, 200))
    return visits


def _action_targets():
    """(model label, action name, eligible objects) for the intermediate action forms."""
    from builds.models import BuildOrder
    from inventory.models import Part, StockItem, StockLocation
    from orders.models import PurchaseOrder, ReturnOrder, SalesOrder

    return [
        ("inventory.stockitem", "move_stock", StockItem.objects.in_stock()),
        ("inventory.stocklocation", "move_all_items", StockLocation.objects.all()),
        ("inventory.part", "copy_bom", Part.objects.filter(assembly=True)),
        ("orders.purchaseorder", "place_orders", PurchaseOrder.objects.filter(status=10)),
        ("orders.salesorder", "issue_orders", SalesOrder.objects.filter(status=10)),
        ("orders.returnorder", "issue_orders", ReturnOrder.objects.filter(status=10)),
        ("builds.buildorder", "issue_builds", BuildOrder.objects.filter(status=10)),
    ]


@dataclass
class Visit:
    name: str  # "changelist inventory.part", used in failure lines
    url: str
    expected: int  # 200 or 403
    action: tuple[str, set[str]] | None = None  # (action name, eligible pks) on a changelist
    detail: bool = False  # a detail action page: must show its form, not redirect


@dataclass
class UserPlan:
    username: str
    visits: list[Visit] = field(default_factory=list)


def _request_for(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _object_allowed(model_admin, request, obj, page: str) -> bool:
    if page == "history" and hasattr(model_admin, "has_view_history_or_change_history_permission"):
        return model_admin.has_view_history_or_change_history_permission(request, obj)
    return model_admin.has_view_or_change_permission(request, obj)


def build_plans(users) -> list[UserPlan]:
    """Every URL each account opens, with the status its role explains (all ORM work is
    done here, before the browser starts, so the live server has the database to itself)."""
    matrix = permission_matrix(users)
    first = {model: model._default_manager.order_by("pk").first() for model in admin.site._registry}
    versions = {}
    for model, obj in first.items():
        if obj is not None and hasattr(model, "history"):
            record = model.history.filter(**{model._meta.pk.attname: obj.pk}).first()
            versions[model] = record.history_id if record is not None else None
    targets = [
        (label, action, {str(pk) for pk in queryset.values_list("pk", flat=True)})
        for label, action, queryset in _action_targets()
    ]
    plans = []
    for user in users:
        request = _request_for(user)
        plan = UserPlan(user.username)
        for model, model_admin in sorted(
            admin.site._registry.items(), key=lambda kv: kv[0]._meta.label_lower
        ):
            label = model._meta.label_lower
            info = model._meta.app_label, model._meta.model_name
            may_list = "V" in matrix[label][user.username]
            plan.visits.append(
                Visit(
                    f"changelist {label}",
                    reverse("admin:{}_{}_changelist".format(*info)),
                    200 if may_list else 403,
                )
            )
            obj = first[model]
            if obj is None:
                continue
            for page in ("change", "history"):
                plan.visits.append(
                    Visit(
                        f"{page} {label}",
                        reverse("admin:{}_{}_{}".format(*info, page), args=[obj.pk]),
                        200 if _object_allowed(model_admin, request, obj, page) else 403,
                    )
                )
            if versions.get(model) is not None:
                try:
                    url = reverse(
                        "admin:{}_{}_simple_history".format(*info), args=[obj.pk, versions[model]]
                    )
                except NoReverseMatch:  # a third-party admin without simple-history pages
                    continue
                allowed = _object_allowed(model_admin, request, obj, "history")
                plan.visits.append(Visit(f"history version {label}", url, 200 if allowed else 403))
        for model, model_admin in sorted(
            admin.site._registry.items(), key=lambda kv: kv[0]._meta.label_lower
        ):
            resources = getattr(model_admin, "sheet_resources", lambda: [])()
            if not resources:
                continue  # no import/export pages on this list
            info = model._meta.app_label, model._meta.model_name
            for page, allowed in (
                ("import", model_admin.has_sheet_import_permission(request, resources[0])),
                ("export", model_admin.has_sheet_export_permission(request, resources[0])),
            ):
                plan.visits.append(
                    Visit(
                        f"{page} {model._meta.label_lower}",
                        reverse("admin:{}_{}_{}".format(*info, page)),
                        200 if allowed else 403,
                    )
                )
        for label, action, eligible in targets:
            model = next(m for m in admin.site._registry if m._meta.label_lower == label)
            model_admin = admin.site._registry[model]
            if action not in model_admin.get_actions(request):
                continue
            plan.visits.append(
                Visit(
                    f"action {label} {action}",
                    reverse("admin:{}_{}_changelist".format(*model._meta.label_lower.split("."))),
                    200,
                    action=(action, eligible),
                )
            )
        if user.username == "admin":
            from inventory.models import Part

            part = Part.objects.get(ipn=DOC_PART_IPN)
            url = reverse("admin:inventory_part_change", args=[part.pk])
            # opened on its Stock tab (lazy: fetched after the page loads)
            plan.visits.append(Visit("part page", url + "#dataset-tab-stock", 200))
            plan.visits.extend(order_page_visits(user))
        plans.append(plan)
    return plans


class PageWatcher:
    """Collects JavaScript errors and failed sub-resources for the page being visited."""

    def __init__(self, page, base_url):
        self.page = page
        self.base_url = base_url
        self.current = None
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"JavaScript error: {error}"))
        page.on("response", self._response)
        page.on("requestfailed", self._request_failed)

    def _console(self, message):
        if message.type != "error":
            return
        text = message.text
        where = message.location.get("url", "")
        # Chrome logs the document's own expected 403 as "Failed to load resource".
        if "Failed to load resource" in text and where == self.current:
            return
        self.problems.append(f"console error: {text} ({where or 'inline'})")

    def _response(self, response):
        if (
            response.request.is_navigation_request()
            and response.request.frame == self.page.main_frame
        ):
            return  # the document itself is checked against the role
        if response.status >= 400:
            self.problems.append(f"{response.status} for {response.url}")

    def _request_failed(self, request):
        failure = request.failure or ""
        if "ERR_ABORTED" not in failure:  # aborted by the next navigation: not a defect
            self.problems.append(f"request failed: {request.url} ({failure})")

    def take(self) -> list[str]:
        self.page.evaluate("0")  # deliver the events the page has emitted so far
        problems, self.problems = self.problems, []
        return problems


def check_page(page, response, visit) -> list[str]:
    problems = []
    status = response.status if response is not None else None
    if status != visit.expected:
        problems.append(f"HTTP {status}, the role explains {visit.expected}")
    if not page.title().strip():
        problems.append("no <title>")
    if page.locator("h1").count() == 0:
        problems.append("no <h1>")
    if visit.detail and status == 200 and not page.url.endswith(visit.url):
        problems.append(f"redirected to {page.url} instead of showing the action's form")
    if visit.name in FIT_LISTS and status == 200:
        wide = page.evaluate(OVERFLOW_JS)
        if wide is None:
            problems.append("no results table")
        elif wide:
            width = VIEWPORT["width"]
            problems.append(f"wider than the screen at {width} px: {'; '.join(wide)}")
    return problems


def open_action_form(page, base_url, visit) -> tuple[object, list[str]]:
    """Tick an eligible row on the changelist, choose the action and run it."""
    action, eligible = visit.action
    response = page.goto(base_url + visit.url)
    if response is None or response.status != 200:
        return response, [f"changelist answered {response and response.status}"]
    values = page.locator("input.action-select").evaluate_all("els => els.map(e => e.value)")
    pk = next((value for value in values if value in eligible), None)
    if pk is None:
        return response, ["no object on the first changelist page this action applies to"]
    page.locator(f'input.action-select[value="{pk}"]').check()
    page.locator("select[name=action]").select_option(action)
    with page.expect_navigation() as navigation:
        page.locator('#changelist-actions button[name="index"]').click()
    response = navigation.value
    problems = []
    if page.locator("form button[name=apply]").count() == 0:
        message = page.locator(".messagelist, [class*=message]").all_inner_texts()
        problems.append(f"no action form shown ({' '.join(message).strip()[:200] or 'no message'})")
    return response, problems


def save_doc_screenshot(page, name):
    """A README screenshot (docs/screenshots/): what a 1,440 × 900 screen shows."""
    DOCS_SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")  # lazy tabs and charts have drawn
    page.screenshot(path=DOCS_SCREENSHOT_DIR / name)


def login(page, base_url, username) -> list[str]:
    page.goto(base_url + reverse("admin:login") + "?next=" + reverse("admin:index"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORDS[username])
    with page.expect_navigation():
        page.locator("form [type=submit]").first.click()
    if page.url.rstrip("/") != (base_url + reverse("admin:index")).rstrip("/"):
        return [f"login did not reach the admin index (at {page.url})"]
    return []


def test_the_watcher_reports_javascript_errors(browser):
    """The harness itself: a console error and an uncaught exception are both reported."""
    page = browser.new_page()
    try:
        watcher = PageWatcher(page, "about:blank")
        page.set_content(
            "<title>t</title><h1>t</h1><script>console.error('boom'); undefinedFunction();</script>"
        )
        problems = watcher.take()
    finally:
        page.close()
    assert any("console error: boom" in p for p in problems), problems
    assert any("undefinedFunction is not defined" in p for p in problems), problems


@pytest.mark.django_db(transaction=True)  # the live server reads what the test wrote
def test_every_admin_page_as_every_demo_account(browser, live_server, screenshot_dir):
    ensure_demo_accounts()
    load_demo_data()
    users = [User.objects.get(username=name) for name in DEMO_USERS]
    plans = build_plans(users)
    base_url = live_server.url
    failures: list[str] = []
    started = time.monotonic()
    timings = []
    for plan in plans:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.set_default_timeout(20_000)
        watcher = PageWatcher(page, base_url)

        def report(name, problems, plan=plan):
            failures.extend(f"{plan.username} · {name}: {problem}" for problem in problems)

        watcher.current = base_url + reverse("admin:login")
        report("login", login(page, base_url, plan.username) + watcher.take())
        if (plan.username, "index") in SCREENSHOTS:
            page.screenshot(path=screenshot_dir / SCREENSHOTS[(plan.username, "index")])
        if (plan.username, "index") in DOC_SCREENSHOTS:
            save_doc_screenshot(page, DOC_SCREENSHOTS[(plan.username, "index")])
        for visit in plan.visits:
            watcher.current = base_url + visit.url
            visit_started = time.monotonic()
            if visit.action:
                response, problems = open_action_form(page, base_url, visit)
                if response is not None and response.status == 200:
                    problems += check_page(page, response, visit)
            else:
                response = page.goto(base_url + visit.url)
                problems = check_page(page, response, visit)
            report(visit.name, problems + watcher.take())
            timings.append((time.monotonic() - visit_started, plan.username, visit.name))
            shot = SCREENSHOTS.get((plan.username, visit.name))
            if shot:
                page.screenshot(path=screenshot_dir / shot, full_page=True)
            if (plan.username, visit.name) in DOC_SCREENSHOTS:
                save_doc_screenshot(page, DOC_SCREENSHOTS[(plan.username, visit.name)])
        context.close()
    elapsed = time.monotonic() - started
    pages = sum(len(plan.visits) for plan in plans)
    slowest = ", ".join(
        f"{who} {name} {seconds:.1f}s" for seconds, who, name in sorted(timings)[-8:]
    )
    print(
        f"browser smoke: {pages} pages in {elapsed:.0f}s (slowest: {slowest}); screenshots in {screenshot_dir}"
    )
    assert failures == [], (
        f"{len(failures)} problem(s) in the browser (screenshots in {screenshot_dir}):\n"
        + "\n".join(failures)
    )
