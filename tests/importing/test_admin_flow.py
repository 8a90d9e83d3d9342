"""The import/export pages through the test client: upload → preview → confirm, error rows
only, templates, export with the column chooser and the list's filters, permissions as an
attacker, double confirm, and large files as jobs (admin_customisations/importing/admin.py)."""

import csv
import io
import re

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from admin_customisations.importing.admin import host_label
from admin_customisations.importing.resource import all_resources, resource_for
from admin_customisations.jobs import runner
from admin_customisations.models import BackgroundJob, ImportRun
from fixtures.accounts import ensure_demo_accounts
from inventory.models import Part, PartCategory, StockItem
from orders.models import Company
from tests import factories

pytestmark = pytest.mark.django_db

PART_IMPORT = reverse("admin:inventory_part_import")
PART_EXPORT = reverse("admin:inventory_part_export")
PART_LIST = reverse("admin:inventory_part_changelist")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def demo(db):
    ensure_demo_accounts()
    return {name: User.objects.get(username=name) for name in ("allaccess", "reader", "engineer")}


@pytest.fixture
def resistors(db):
    electronics = factories.PartCategoryFactory(name="Electronics", parent=None)
    return factories.PartCategoryFactory(name="Resistors", parent=electronics)


def upload(name, text, encoding="utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def csv_text(headers, rows, delimiter=",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()


def run_url(run, suffix=""):
    return reverse(f"admin:inventory_part_import_{suffix or 'run'}", args=[run.pk])


def post_upload(client, text, *, name="parts.csv", url=PART_IMPORT, **data):
    return client.post(url, {"import_file": upload(name, text), "delimiter": "", **data})


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# ------------------------------------------------------------------ upload → preview → confirm


def test_upload_preview_confirm_parts_as_allaccess(client, demo, resistors):
    factories.PartFactory(ipn="R-1", name="Resistor 1k", category=resistors)
    client.force_login(demo["allaccess"])
    page = client.get(PART_LIST).content.decode()
    assert PART_IMPORT in page and PART_EXPORT in page  # the list's Import / Export buttons

    form = client.get(PART_IMPORT)
    assert form.status_code == 200
    text = form.content.decode()
    assert 'name="import_file"' in text and 'name="delimiter"' in text
    assert "Electronics/Passives/Resistors" in text  # the columns' help
    assert "template.csv" in text and "template.xlsx" in text

    path = resistors.pathstring
    # semicolons, detected; one update, one new, one unchanged row
    body = csv_text(
        ["IPN", "Name", "Category", "Description"],
        [
            ["R-1", "Resistor 1k", path, "A test part"],
            ["R-2", "Resistor 2k2", path, "new"],
        ],
        delimiter=";",
    )
    response = post_upload(client, body)
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response.url == run_url(run)
    assert run.status == ImportRun.Status.VALID, run.errors
    assert (run.new_count, run.updated_count, run.unchanged_count) == (1, 0, 1)
    assert run.user == demo["allaccess"] and run.resource == "parts"

    preview = client.get(run_url(run))
    html = preview.content.decode()
    assert preview.status_code == 200
    assert 'data-count="new">1<' in html and 'data-count="unchanged">1<' in html
    assert "semicolon" in html  # the detected delimiter
    assert run.encoding and run.encoding in html
    assert 'id="import-confirm"' in html and 'id="import-errors"' not in html
    assert not Part.objects.filter(ipn="R-2").exists()  # nothing written by the preview

    confirm = client.post(run_url(run, "confirm"))
    assert confirm.status_code == 302 and confirm.url == PART_LIST
    assert messages_of(confirm) == [
        f"Imported parts.csv (import #{run.pk}): 1 new, 0 updated, 1 unchanged parts."
    ]
    created = Part.objects.get(ipn="R-2")
    assert created.category == resistors and created.description == "new"
    history = created.history.get()
    assert history.history_user == demo["allaccess"]
    assert history.history_change_reason == f"Imported from parts.csv (import #{run.pk})"
    run.refresh_from_db()
    assert run.status == ImportRun.Status.COMMITTED and not run.file


def test_confirm_twice_is_harmless(client, demo, resistors):
    client.force_login(demo["allaccess"])
    post_upload(
        client, csv_text(["IPN", "Name", "Category"], [["N-1", "New", resistors.pathstring]])
    )
    run = ImportRun.objects.get()
    first = client.post(run_url(run, "confirm"))
    assert first.status_code == 302
    histories = Part.history.count()
    second = client.post(run_url(run, "confirm"))
    assert second.status_code == 302
    assert (
        "already" in messages_of(second)[-1]
        and "nothing more was written" in messages_of(second)[-1]
    )
    assert Part.objects.filter(ipn="N-1").count() == 1
    assert Part.history.count() == histories


def test_confirm_is_post_only(client, demo, resistors):
    client.force_login(demo["allaccess"])
    post_upload(
        client, csv_text(["IPN", "Name", "Category"], [["G-1", "Get", resistors.pathstring]])
    )
    run = ImportRun.objects.get()
    assert client.get(run_url(run, "confirm")).status_code == 405
    assert not Part.objects.filter(ipn="G-1").exists()


def test_a_change_between_preview_and_confirm_fails_and_writes_nothing(client, demo, resistors):
    part = factories.PartFactory(ipn="C-1", name="Cap", description="old", category=resistors)
    client.force_login(demo["allaccess"])
    post_upload(
        client,
        csv_text(
            ["IPN", "Name", "Category", "Description"],
            [
                ["C-1", "Cap", resistors.pathstring, "from file"],
                ["C-2", "New", resistors.pathstring, ""],
            ],
        ),
    )
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.VALID
    Part.objects.filter(pk=part.pk).update(description="edited meanwhile")
    response = client.post(run_url(run, "confirm"))
    assert response.status_code == 302 and response.url == run_url(run)
    assert messages_of(response)[0].startswith("The import failed and nothing was imported")
    assert not Part.objects.filter(ipn="C-2").exists()
    assert Part.objects.get(pk=part.pk).description == "edited meanwhile"
    preview = client.get(run_url(run)).content.decode()
    assert "Changed since the preview" in preview and 'id="import-confirm"' not in preview


# ------------------------------------------------------------------ errors only, paginated


def test_the_preview_lists_only_error_rows_50_per_page(client, demo, resistors):
    client.force_login(demo["allaccess"])
    rows = []
    for n in range(120):
        category = "Electronics/Resistrs" if n % 2 else resistors.pathstring
        rows.append([f"E-{n:03d}", f"Part {n}", category])
    post_upload(client, csv_text(["IPN", "Name", "Category"], rows))
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.INVALID and run.error_count == 60
    first = client.get(run_url(run)).content.decode()
    assert 'id="import-confirm"' not in first
    assert first.count("Electronics/Resistrs") == 50  # one error row each
    assert "did you mean" in first and "Electronics/Resistors" in first
    assert "Page 1 of 2" in first
    # row numbers as the spreadsheet counts them: header row 1, E-001 is row 3
    assert '<td class="py-1 pr-4">3</td>' in first
    assert "E-000" not in first  # valid rows are not listed
    second = client.get(run_url(run) + "?page=2").content.decode()
    assert second.count("Electronics/Resistrs") == 10 and "Page 2 of 2" in second
    assert not Part.objects.filter(ipn__startswith="E-").exists()


def test_wrong_headers_list_the_expected_ones(client, demo):
    client.force_login(demo["allaccess"])
    post_upload(client, csv_text(["Part number", "Title"], [["X-1", "x"]]))
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.INVALID
    page = client.get(run_url(run)).content.decode()
    assert "IPN" in page and "Name" in page and 'id="import-errors"' in page


def test_a_too_large_file_is_refused_before_it_is_read(client, demo, settings):
    settings.IMPORT_MAX_FILE_MB = 1
    client.force_login(demo["allaccess"])
    big = "IPN,Name\n" + "X-1,x\n" * 200_000  # ~1.2 MB
    response = post_upload(client, big)
    assert response.status_code == 200
    assert "the largest file an import accepts is 1 MB" in response.content.decode()
    assert not ImportRun.objects.exists()


# ------------------------------------------------------------------ templates


def test_template_download_csv_and_xlsx(client, demo):
    headers = resource_for(Part).headers()
    client.force_login(demo["allaccess"])
    response = client.get(reverse("admin:inventory_part_import_template", args=["csv"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="parts-template.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == headers and len(rows) >= 2  # headers + the example row(s)

    response = client.get(reverse("admin:inventory_part_import_template", args=["xlsx"]))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == headers and len(values) >= 2

    assert (
        client.get(reverse("admin:inventory_part_import_template", args=["xls"])).status_code == 404
    )


# ------------------------------------------------------------------ export


def test_export_honours_the_filter_and_the_chosen_columns(client, demo, resistors):
    other = factories.PartCategoryFactory(name="Capacitors")
    for n in range(3):
        factories.PartFactory(ipn=f"RES-{n}", name=f"Res {n}", category=resistors)
    factories.PartFactory(ipn="CAP-1", name="Cap 1", category=other)
    client.force_login(demo["reader"])  # view is enough to export parts
    filters = f"category__id__exact={resistors.pk}"
    # the list's Export button carries its filters
    listing = client.get(f"{PART_LIST}?{filters}").content.decode()
    assert "_changelist_filters=category__id__exact%3D" in listing

    url = f"{PART_EXPORT}?_changelist_filters=category__id__exact%3D{resistors.pk}"
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert (
        "3 rows match the list&#x27;s filters" in html or "3 rows match the list's filters" in html
    )
    boxes = re.findall(r'<input[^>]*name="columns"[^>]*>', html)
    headers = resource_for(Part).headers()
    assert len(boxes) == len(headers) and all("checked" in box for box in boxes)  # all ticked

    response = client.post(url, {"format": "csv", "columns": ["IPN", "Category"]})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["IPN", "Category"]
    assert sorted(r[0] for r in rows[1:]) == ["RES-0", "RES-1", "RES-2"]
    assert {r[1] for r in rows[1:]} == {resistors.pathstring}

    response = client.post(url, {"format": "xlsx", "columns": ["Name", "IPN"]})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("IPN", "Name")  # the resource's column order
    assert len(values) == 4

    refused = client.post(url, {"format": "csv"})
    assert refused.status_code == 200 and "Choose at least one column." in refused.content.decode()


def test_export_honours_the_search(client, demo):
    factories.PartFactory(ipn="SRCH-1", name="Findme widget")
    factories.PartFactory(ipn="OTHER-1", name="Other thing")
    client.force_login(demo["allaccess"])
    response = client.post(
        f"{PART_EXPORT}?_changelist_filters=q%3DFindme", {"format": "csv", "columns": ["IPN"]}
    )
    body = response.content.decode("utf-8-sig")
    assert "SRCH-1" in body and "OTHER-1" not in body


def test_a_large_export_runs_as_a_job_with_the_same_columns(client, demo, settings, resistors):
    settings.BULK_JOB_THRESHOLD = 2
    for n in range(4):
        factories.PartFactory(ipn=f"J-{n}", name=f"Job {n}", category=resistors)
    factories.PartFactory(ipn="J-OTHER", name="Other")
    client.force_login(demo["allaccess"])
    url = f"{PART_EXPORT}?_changelist_filters=category__id__exact%3D{resistors.pk}"
    response = client.post(url, {"format": "csv", "columns": ["IPN", "Name"]})
    job = BackgroundJob.objects.get()
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    assert job.params == {"resource": "parts", "format": "csv", "columns": ["IPN", "Name"]}
    runner.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.message
    download = client.get(reverse("admin:job_download", args=[job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["IPN", "Name"] and sorted(r[0] for r in rows[1:]) == [
        "J-0",
        "J-1",
        "J-2",
        "J-3",
    ]


# ------------------------------------------------------------------ permissions (attacker)


def _state():
    return (
        Part.objects.count(),
        PartCategory.objects.count(),
        StockItem.objects.count(),
        Company.objects.count(),
        ImportRun.objects.count(),
        Part.history.count(),
    )


def test_reader_may_not_import_anything(client, demo, resistors):
    client.force_login(demo["reader"])
    assert 'href="' + PART_IMPORT not in client.get(PART_LIST).content.decode()
    before = _state()
    body = csv_text(["IPN", "Name", "Category"], [["F-1", "Forged", resistors.pathstring]])
    for model in (
        "inventory_part",
        "inventory_partcategory",
        "inventory_stockitem",
        "orders_company",
    ):
        url = reverse(f"admin:{model}_import")
        assert client.get(url).status_code == 403
        assert post_upload(client, body, url=url).status_code == 403
        template = reverse(f"admin:{model}_import_template", args=["csv"])
        assert client.get(template).status_code == 403
    # every resource, on the list that hosts it (order lines on their orders, ...)
    for resource in all_resources():
        url = reverse(f"admin:{host_label(resource).replace('.', '_')}_import")
        url += f"?resource={resource.name}"
        assert client.get(url).status_code == 403, resource.name
        assert post_upload(client, body, url=url).status_code == 403, resource.name
    assert len(all_resources()) >= 15
    assert _state() == before


def test_engineer_imports_parts_but_not_stock_or_companies(client, demo, resistors):
    client.force_login(demo["engineer"])
    for model in (
        "inventory_part",
        "inventory_partcategory",
        "inventory_partparametertemplate",
        "builds_bomitem",  # the Parts role covers BOMs (as in InvenTree)
    ):
        assert client.get(reverse(f"admin:{model}_import")).status_code == 200, model
    parameters = PART_IMPORT + "?resource=part_parameters"
    assert client.get(parameters).status_code == 200
    before = _state()
    body = csv_text(["Name"], [["Forged Inc"]])
    for model in (
        "inventory_stockitem",
        "inventory_stocklocation",
        "orders_company",
        "orders_supplierpart",  # names a supplier: a company engineering may not see
        "orders_purchaseorder",
    ):
        url = reverse(f"admin:{model}_import")
        assert client.get(url).status_code == 403, model
        assert post_upload(client, body, url=url).status_code == 403, model
    assert _state() == before
    # and a parts import works end to end
    post_upload(
        client, csv_text(["IPN", "Name", "Category"], [["EN-1", "Eng", resistors.pathstring]])
    )
    run = ImportRun.objects.get()
    client.post(run_url(run, "confirm"))
    assert Part.objects.get(ipn="EN-1").history.get().history_user == demo["engineer"]


def test_an_import_run_is_seen_and_confirmed_only_by_its_user(client, demo, resistors):
    client.force_login(demo["allaccess"])
    post_upload(
        client, csv_text(["IPN", "Name", "Category"], [["O-1", "Own", resistors.pathstring]])
    )
    run = ImportRun.objects.get()
    colleague = User.objects.create_user("colleague", password="x-unused-9", is_staff=True)
    colleague.groups.set(demo["allaccess"].groups.all())
    client.force_login(colleague)
    assert client.get(run_url(run)).status_code == 403
    assert client.post(run_url(run, "confirm")).status_code == 403
    assert not Part.objects.filter(ipn="O-1").exists()
    # a run of another list is not found here
    other = reverse("admin:inventory_partcategory_import_run", args=[run.pk])
    client.force_login(demo["allaccess"])
    assert client.get(other).status_code == 404


def test_reader_may_export_companies_but_not_contacts(client, demo):
    factories.ContactFactory()
    client.force_login(demo["reader"])
    assert client.get(reverse("admin:orders_company_export")).status_code == 200
    assert client.get(reverse("admin:orders_contact_export")).status_code == 403
    assert client.post(reverse("admin:orders_contact_export"), {"format": "csv"}).status_code == 403
    client.force_login(demo["allaccess"])
    assert client.get(reverse("admin:orders_contact_export")).status_code == 200


# ------------------------------------------------------------------ large files run as jobs


def test_a_job_sized_file_is_validated_and_committed_by_jobs(client, demo, settings, resistors):
    settings.IMPORT_JOB_BYTES = 10
    client.force_login(demo["allaccess"])
    post_upload(
        client,
        csv_text(
            ["IPN", "Name", "Category"],
            [[f"JOB-{n}", f"Job {n}", resistors.pathstring] for n in range(5)],
        ),
    )
    run = ImportRun.objects.get()
    job = BackgroundJob.objects.get()
    assert run.job == job and run.status == ImportRun.Status.VALIDATING
    assert job.params == {"run": run.pk, "step": "validate"} and job.created_by == demo["allaccess"]
    preview = client.get(run_url(run)).content.decode()
    assert reverse("admin:job_progress", args=[job.pk]) in preview  # the progress bar polls it
    assert "job_progress.js" in preview and 'data-reload-when-finished="1"' in preview
    assert 'id="import-confirm"' not in preview
    assert client.get(reverse("admin:job_progress", args=[job.pk])).json()["finished"] is False

    runner.run_job(job.pk)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.VALID and run.new_count == 5
    assert 'id="import-confirm"' in client.get(run_url(run)).content.decode()

    response = client.post(run_url(run, "confirm"))
    assert response.status_code == 302 and response.url == run_url(run)
    commit_job = BackgroundJob.objects.exclude(pk=job.pk).get()
    assert commit_job.params == {"run": run.pk, "step": "commit"}
    again = client.post(run_url(run, "confirm"))  # double submit while the job waits
    assert again.status_code == 302
    assert "already being imported; nothing more was written" in messages_of(again)[-1]
    assert BackgroundJob.objects.count() == 2
    runner.run_job(commit_job.pk)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.COMMITTED
    assert Part.objects.filter(ipn__startswith="JOB-").count() == 5


def test_order_lines_are_exported_from_the_order_list_with_its_search(client, demo):
    wanted = factories.PurchaseOrderLineFactory()
    factories.PurchaseOrderLineFactory(order=wanted.order)
    other = factories.PurchaseOrderLineFactory()
    client.force_login(demo["allaccess"])
    listing = client.get(reverse("admin:orders_purchaseorder_changelist")).content.decode()
    assert "Export purchase order lines" in listing and "Import purchase order lines" in listing
    url = (
        reverse("admin:orders_purchaseorder_export")
        + f"?resource=purchase_order_lines&_changelist_filters=q%3D{wanted.order.reference}"
    )
    response = client.post(url, {"format": "csv", "columns": ["Order", "Quantity"]})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Order", "Quantity"]
    assert [r[0] for r in rows[1:]] == [wanted.order.reference] * 2
    assert other.order.reference not in response.content.decode("utf-8-sig")
    unknown = reverse("admin:orders_purchaseorder_export") + "?resource=parts"
    assert client.get(unknown).status_code == 404  # parts are not exported from this list


def test_the_resources_options_are_on_the_upload_form_and_stored_with_the_run(client, demo):
    client.force_login(demo["allaccess"])
    url = reverse("admin:builds_bomitem_import")
    page = client.get(url).content.decode()
    assert 'name="dnp"' in page and 'name="create_missing"' in page
    body = csv_text(["Assembly IPN", "Sub-part IPN", "Quantity"], [["NOPE-1", "NOPE-2", "1"]])
    post_upload(client, body, url=url, dnp="skip", create_missing="on")
    run = ImportRun.objects.get()
    assert run.resource == "bom_lines"
    assert run.options == {"dnp": "skip", "create_missing": True}


def test_a_hosted_resources_template(client, demo):
    client.force_login(demo["allaccess"])
    url = reverse("admin:inventory_part_import_template", args=["csv"])
    response = client.get(url + "?resource=part_parameters")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == resource_for("part_parameters").headers()
    assert client.get(url + "?resource=companies").status_code == 404


@pytest.mark.parametrize("filters", ["nonsense%3D1", "created_by__password__startswith%3Dpbkdf2"])
def test_export_with_filters_the_list_refuses_says_so(client, demo, filters):
    client.force_login(demo["allaccess"])
    response = client.get(f"{PART_EXPORT}?_changelist_filters={filters}")
    assert response.status_code == 302 and response.url == PART_LIST
    assert "filters are not valid any more" in messages_of(response)[0]


def test_an_all_unchanged_file_offers_no_confirm(client, demo, resistors):
    factories.PartFactory(ipn="U-1", name="Same", description="A test part", category=resistors)
    client.force_login(demo["allaccess"])
    post_upload(
        client,
        csv_text(
            ["IPN", "Name", "Category", "Description"],
            [["U-1", "Same", resistors.pathstring, "A test part"]],
        ),
    )
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.VALID and run.unchanged_count == 1
    page = client.get(run_url(run)).content.decode()
    assert 'id="import-nothing"' in page and 'id="import-confirm"' not in page
