"""The import pages in Chromium: upload a file with errors, read the preview (error rows
only, paginated), upload a valid one and confirm it; no JavaScript errors on the way.
Screenshots of the upload and preview pages are left in the screenshot directory."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from fixtures.accounts import ensure_demo_accounts
from inventory.models import Part
from tests import factories
from tests.browser.test_smoke import PageWatcher, login

pytestmark = pytest.mark.browser


def _csv(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("IPN,Name,Category\n" + "".join(f"{','.join(r)}\n" for r in rows))
    return path


@pytest.mark.django_db(transaction=True)  # the live server reads what the test wrote
def test_upload_preview_confirm_in_the_browser(
    browser, live_server, screenshot_dir, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_demo_accounts()
    assert User.objects.filter(username="allaccess").exists()
    resistors = factories.PartCategoryFactory(
        name="Resistors", parent=factories.PartCategoryFactory(name="Electronics", parent=None)
    )
    path = resistors.pathstring
    bad = _csv(
        tmp_path,
        "parts-with-errors.csv",
        [
            [f"B-{n:03d}", f"Part {n}", "Electronics/Resistrs" if n % 2 else path]
            for n in range(130)
        ],
    )
    good = _csv(tmp_path, "parts.csv", [["G-1", "Good one", path], ["G-2", "Good two", path]])
    base = live_server.url
    upload_url = base + reverse("admin:inventory_part_import")

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    watcher = PageWatcher(page, base)
    problems = login(page, base, "allaccess")

    watcher.current = upload_url
    page.goto(upload_url)
    assert page.locator("h1", has_text="Import parts").count() == 1
    assert page.locator("#import-columns").count() == 1
    page.screenshot(path=screenshot_dir / "import-upload.png", full_page=True)
    page.set_input_files("input[name=import_file]", str(bad))
    with page.expect_navigation():
        page.locator("#import-upload button[type=submit]").click()
    watcher.current = page.url
    assert page.locator('[data-count="errors"]').inner_text() == "65"
    assert page.locator("#import-errors tbody tr").count() == 50
    assert "did you mean" in page.locator("#import-errors").inner_text()
    assert page.locator("#import-confirm").count() == 0
    page.screenshot(path=screenshot_dir / "import-preview-errors.png", full_page=True)
    with page.expect_navigation():
        page.locator("#import-errors-pages a", has_text="Next").click()
    assert page.locator("#import-errors tbody tr").count() == 15

    page.goto(upload_url)
    page.set_input_files("input[name=import_file]", str(good))
    with page.expect_navigation():
        page.locator("#import-upload button[type=submit]").click()
    assert page.locator('[data-count="new"]').inner_text() == "2"
    page.screenshot(path=screenshot_dir / "import-preview-valid.png", full_page=True)
    with page.expect_navigation():
        page.locator("#import-confirm button").click()
    assert "2 new" in page.content()
    assert page.url.endswith(reverse("admin:inventory_part_changelist"))
    # the list's Import and Export buttons
    assert page.locator(f'a[href="{reverse("admin:inventory_part_import")}"]').count() == 1
    exports = page.locator('a[href^="/admin/inventory/part/export/"]')
    assert exports.count() == 2  # parts, and the part parameters hosted on this list
    assert "Export part parameters" in " ".join(exports.all_inner_texts())
    page.screenshot(path=screenshot_dir / "import-done-part-list.png")

    # a job-sized file: the preview shows the job's progress bar and polls the job's
    # progress endpoint (no worker runs here, so it stays queued)
    settings.IMPORT_JOB_BYTES = 10
    page.goto(upload_url)
    page.set_input_files(
        "input[name=import_file]", str(_csv(tmp_path, "big.csv", [["J-1", "J", path]]))
    )
    with page.expect_navigation():
        page.locator("#import-upload button[type=submit]").click()
    assert page.locator("#import-bar").count() == 1
    with page.expect_response(lambda r: "/progress/" in r.url) as polled:
        pass
    assert polled.value.status == 200
    page.screenshot(path=screenshot_dir / "import-preview-job.png")
    problems += watcher.take()

    # the BOM import's own options, and the export page's column chooser
    watcher.current = base + reverse("admin:builds_bomitem_import")
    page.goto(watcher.current)
    assert page.locator("input[name=dnp]").count() == 2
    assert page.locator("input[name=create_missing]").count() == 1
    page.screenshot(path=screenshot_dir / "import-upload-bom.png", full_page=True)
    watcher.current = base + reverse("admin:inventory_part_export")
    page.goto(watcher.current + f"?_changelist_filters=category__id__exact%3D{resistors.pk}")
    boxes = page.locator("input[name=columns]")
    assert boxes.count() > 20
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    assert "2 rows match" in page.locator("#export-count").inner_text()
    page.screenshot(path=screenshot_dir / "export-parts.png", full_page=True)
    problems += watcher.take()
    context.close()
    assert problems == []
    assert Part.objects.filter(ipn__in=["G-1", "G-2"]).count() == 2
    assert not Part.objects.filter(ipn__startswith="B-").exists()
