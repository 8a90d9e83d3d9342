"""The "Stock as of a date" admin page: renders, filters, downloads, bad input, the
background job for large questions, and the permission matrix (GET and forged POST per
demo account, and a staff user without stock permissions)."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import User
from django.test import Client

from admin_customisations.jobs import runner
from admin_customisations.models import BackgroundJob
from fixtures.accounts import ensure_demo_accounts
from inventory.services.stock import stock_item_create, stock_item_move
from tests import factories
from tests.inventory.test_stock_as_of import at

pytestmark = pytest.mark.django_db
URL = "/admin/inventory/stockitem/as-of/"
DEMO = ["reader", "engineer", "allaccess", "admin"]
UTC = datetime.UTC
BEFORE = datetime.datetime(2025, 6, 1, 8, tzinfo=UTC)
RECEIVED = datetime.datetime(2025, 6, 2, 8, tzinfo=UTC)
MOVED = datetime.datetime(2025, 6, 20, 8, tzinfo=UTC)


@pytest.fixture
def stock():
    ensure_demo_accounts()
    with at(BEFORE):
        user = User.objects.get(username="admin")
        category = factories.PartCategoryFactory(name="Fasteners")
        other = factories.PartCategoryFactory(name="Cables")
        store = factories.StockLocationFactory(name="Store")
        bin_a = factories.StockLocationFactory(name="Bin A", parent=store)
        yard = factories.StockLocationFactory(name="Yard")
        bolt = factories.PartFactory(name="Bolt", ipn="BOLT-1", category=category, units="pcs")
        cable = factories.PartFactory(name="Cable", ipn="CAB-1", category=other, units="m")
    with at(RECEIVED):
        [bolts] = stock_item_create(part=bolt, quantity="12.5", location=bin_a, user=user)
        stock_item_create(part=cable, quantity=100, location=yard, user=user)
    with at(MOVED):
        stock_item_move(item=bolts, location=yard, quantity=2, user=user)
    return locals()


def login(username) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def ask(client, **params):
    return client.get(URL, {"when": "2025-06-10T12:00", **params})


def text(response) -> str:
    return response.content.decode()


def table(response) -> str:
    """The result table's HTML (the form's selects list every part category)."""
    page = text(response)
    assert "stock-as-of-table" in page, page
    return page[page.index("stock-as-of-table") : page.index("</table>")]


@pytest.mark.parametrize("username", DEMO)
def test_every_demo_account_may_view_the_page_and_sees_it_in_the_sidebar(stock, username):
    client = login(username)
    page = client.get(URL)
    assert page.status_code == 200
    assert "Date and time" in text(page)
    assert URL in text(client.get("/admin/"))
    answer = ask(client)
    assert answer.status_code == 200
    assert "Bolt" in text(answer) and "Cable" in text(answer)


def test_a_staff_user_without_stock_permission_is_refused_get_and_post(stock):
    factories.UserFactory(username="outsider", is_staff=True)
    client = login("outsider")
    assert client.get(URL).status_code == 403
    assert ask(client).status_code == 403
    assert client.post(URL, {"when": "2025-06-10T12:00", "format": "csv"}).status_code == 403
    assert not BackgroundJob.objects.exists()
    assert URL not in text(client.get("/admin/"))


@pytest.mark.parametrize("username", DEMO)
def test_forged_post_without_csrf_token_is_refused(stock, username):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username=username))
    response = client.post(URL, {"when": "2025-06-10T12:00", "format": "csv"})
    assert response.status_code == 403
    assert not BackgroundJob.objects.exists()


@pytest.mark.parametrize("username", DEMO)
def test_a_post_starts_a_job_owned_by_the_user(stock, username, settings):
    settings.STOCK_AS_OF_JOB_ROWS = 1
    response = login(username).post(URL, {"when": "2025-06-10T12:00", "format": "xlsx"})
    job = BackgroundJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.created_by.username == username
    assert job.params["format"] == "xlsx"


def test_table_quantities_difference_and_links(stock):
    page = table(ask(login("reader")))
    assert f"/admin/inventory/part/{stock['bolt'].pk}/change/" in page
    # then 12.5, today 12.5 (moved within our stock), no change; the cable unchanged too
    assert "12.5 pcs" in page and "100 m" in page
    assert ">0<" in page


def test_per_location_and_location_filter(stock):
    client = login("reader")
    page = table(ask(client, per_location="on", when="2025-06-25T00:00"))
    assert "Store/Bin A" in page and "Yard" in page
    assert "10.5 pcs" in page and "2 pcs" in page
    page = table(ask(client, per_location="on", location=stock["store"].pk))
    assert "Store/Bin A" in page and "Cable" not in page
    assert "−2" in page  # 12.5 then, 10.5 today


def test_category_and_part_filters(stock):
    client = login("reader")
    page = table(ask(client, category=stock["category"].pk))
    assert "Bolt" in page and "Cable" not in page
    page = table(ask(client, part="CAB-1"))
    assert "Cable" in page and "Bolt" not in page
    page = table(ask(client, part="Cable"))
    assert "Cable" in page and "Bolt" not in page


def test_before_the_stock_arrived_the_difference_is_everything(stock):
    page = table(ask(login("reader"), when="2025-06-01T12:00"))
    assert "+12.5" in page and "+100" in page


@pytest.mark.parametrize(
    "params, message",
    [
        ({"when": "2025-13-45T99:00"}, "Enter a valid date and time"),
        ({"when": "yesterday"}, "Enter a valid date and time"),
        ({"when": ""}, "This field is required"),
        ({"when": "2999-01-01T00:00"}, "the future is not known"),
        ({"when": "0001-01-01T00:00"}, "Choose a date after 1900"),
        ({"category": "999999"}, "This category does not exist"),
        ({"category": "abc"}, "This category does not exist"),
        ({"location": "999999"}, "This location does not exist"),
        ({"part": "no such part"}, "No part has the IPN or name"),
    ],
)
def test_bad_input_is_a_form_error_not_a_500(stock, params, message):
    client = login("reader")
    response = client.get(URL, {"when": "2025-06-10T12:00", **params})
    assert response.status_code == 400
    assert message in text(response)
    response = client.post(URL, {"when": "2025-06-10T12:00", **params})
    assert response.status_code == 400
    assert not BackgroundJob.objects.exists()


def test_csv_download(stock):
    response = ask(login("reader"), format="csv", when="2025-06-25T00:00", per_location="on")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Part",
        "IPN",
        "Units",
        "Location",
        "Quantity then",
        "Quantity today",
        "Difference",
    ]
    assert sorted(rows[1:]) == [
        ["Bolt", "BOLT-1", "pcs", "Store/Bin A", "10.5", "10.5", "0"],
        ["Bolt", "BOLT-1", "pcs", "Yard", "2", "2", "0"],
        ["Cable", "CAB-1", "m", "Yard", "100", "100", "0"],
    ]


def test_a_large_question_runs_as_a_job_with_a_downloadable_file(stock, settings):
    settings.STOCK_AS_OF_JOB_ROWS = 1
    client = login("reader")
    page = text(ask(client))
    assert "answered in the background" in page
    assert "stock-as-of-table" not in page
    response = client.post(URL, {"when": "2025-06-10T12:00", "format": "csv", "part": "BOLT-1"})
    job = BackgroundJob.objects.get()
    runner.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED, job.message
    assert response["Location"] == job.get_absolute_url()
    job_page = client.get(job.get_absolute_url())
    assert job_page.status_code == 200
    assert "1 row written." in text(job_page)
    download = client.get(f"/admin/admin_customisations/backgroundjob/{job.pk}/download/")
    body = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1:] == [["Bolt", "BOLT-1", "pcs", "", "12.5", "12.5", "0"]]


def test_the_job_rechecks_the_permission_in_the_worker(stock, settings):
    settings.STOCK_AS_OF_JOB_ROWS = 1
    client = login("reader")
    client.post(URL, {"when": "2025-06-10T12:00", "format": "csv"})
    job = BackgroundJob.objects.get()
    reader = User.objects.get(username="reader")
    reader.groups.clear()
    runner.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.FAILED
    assert "Not permitted" in job.message
    assert not job.result_file


def test_the_answer_takes_a_bounded_number_of_queries(stock, django_assert_max_num_queries):
    client = login("reader")
    ask(client)
    for index in range(30):  # more parts, locations and history do not add queries
        part = factories.PartFactory(name=f"Nut {index}", category=stock["category"])
        location = factories.StockLocationFactory(name=f"Bin {index}", parent=stock["store"])
        stock_item_create(part=part, quantity=index + 1, location=location, user=stock["user"])
    with django_assert_max_num_queries(20):
        response = ask(client, per_location="on", when="2026-01-01T00:00")
    assert response.status_code == 200
