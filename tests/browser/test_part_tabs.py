"""The part page's tabs in Chromium, at 1,440 px: every tab loads when opened, the stock
tab pages on in place, a tab named in the address opens, the page does not scroll
sideways, the header keeps the object's name, and nothing logs a JavaScript error."""

import pytest
from django.urls import reverse

from fixtures.accounts import ensure_demo_accounts
from tests import factories
from tests.browser.test_smoke import PageWatcher, login

pytestmark = pytest.mark.browser

WIDTH = 1440


def _open(page, watcher, url):
    watcher.current = url
    page.goto(url)
    page.wait_for_load_state("networkidle")


def _tab(page, title):
    page.locator("#tabs-items a", has_text=title).first.click()
    panel = page.locator(".object-tab:visible")
    panel.locator("table").first.wait_for()
    return panel


@pytest.mark.django_db(transaction=True)  # the live server reads what the test wrote
def test_part_tabs_in_the_browser(browser, live_server, screenshot_dir):
    ensure_demo_accounts()
    part = factories.PartFactory(
        name="Tabbed widget", assembly=True, component=True, purchaseable=True, salable=True
    )
    location = factories.StockLocationFactory(name="Shelf T")
    for i in range(30):
        factories.StockItemFactory(part=part, location=location, batch=f"T{i:02d}")
    factories.SalesOrderLineFactory(part=part)
    factories.PurchaseOrderLineFactory(supplier_part__part=part)
    factories.BuildOrderFactory(part=part, title="Tab batch")
    factories.BomItemFactory(sub_part=part)
    base = live_server.url
    change = base + reverse("admin:inventory_part_change", args=[part.pk])

    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    watcher = PageWatcher(page, base)
    problems = login(page, base, "admin")

    _open(page, watcher, change)
    assert page.locator("h1").first.inner_text().endswith(str(part))
    assert page.locator("#tabs-dropdown a").count() == 0  # the bar wraps, nothing hidden
    titles = ["Stock", "Allocations", "Build orders", "Purchase orders", "Sales orders"]
    for title in [*titles, "Used in", "History"]:
        panel = _tab(page, title)
        assert panel.locator("table").count() >= 1, title
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= WIDTH, f"{title}: the page is {width} px wide"

    stock = _tab(page, "Stock")
    assert stock.locator("tbody tr").count() == 25
    stock.locator("a[rel=next]").click()
    page.locator(".object-tab:visible a[rel=prev]").wait_for()
    assert page.locator(".object-tab:visible tbody tr").count() == 5
    assert page.url == change + "#dataset-tab-stock"  # paged in place
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=screenshot_dir / "admin-part-stock-tab.png")

    _open(page, watcher, base + reverse("admin:inventory_part_changelist"))
    _open(page, watcher, change + "#dataset-tab-history")  # a fresh load, not a same-page jump
    page.locator(".object-tab:visible table").first.wait_for()
    assert "Changes to this part" in page.locator(".object-tab:visible").inner_text()

    # the engineer has no purchasing or sales role: no such tabs
    page.context.clear_cookies()
    problems += login(page, base, "engineer")
    _open(page, watcher, change)
    offered = " ".join(page.locator("#tabs-items a").all_inner_texts())
    assert "Stock" in offered and "Build orders" in offered
    assert "Purchase orders" not in offered and "Sales orders" not in offered

    problems += watcher.take()
    context.close()
    assert not problems, "\n".join(problems)
