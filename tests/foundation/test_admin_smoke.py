"""Every Stockroom admin renders its changelist, add, change, history,
object-permissions pages and, where its model has a spreadsheet resource, the import,
template and export pages (admins without one have none), within a constant query budget."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from tests.admin_cases import ADMIN_CASES, stockroom_admin_models

pytestmark = pytest.mark.django_db

PAGES = [
    "changelist",
    "add",
    "change",
    "history",
    "permissions",
    "import",
    "import_template",
    "export",
]
SHEET_PAGES = {"import", "import_template", "export"}


def test_every_stockroom_admin_has_a_case():
    assert stockroom_admin_models(), "no admin uses StockroomModelAdmin"
    assert set(stockroom_admin_models()) - set(ADMIN_CASES) == set()


def page_url(label, page, obj):
    opts = apps.get_model(label)._meta
    name = f"admin:{opts.app_label}_{opts.model_name}_{page}"
    if page in {"change", "history", "permissions"}:
        return reverse(name, args=[obj.pk])
    if page == "import_template":
        return reverse(name, args=["xlsx"])
    return reverse(name)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("label", sorted(ADMIN_CASES))
def test_admin_page_renders(admin_client_root, superuser, label, page):
    case = ADMIN_CASES[label]
    obj = case.make()
    model_admin = admin.site._registry[apps.get_model(label)]
    request = RequestFactory().get("/")
    request.user = superuser
    if page == "add" and not model_admin.has_add_permission(request):
        pytest.skip("this admin has no add page (read-only model)")
    if page == "permissions" and not model_admin.include_object_permissions_urls:
        pytest.skip("this admin has no object permissions (read-only model)")
    if page in SHEET_PAGES and not model_admin.sheet_resources():
        # no resource: no import/export pages at all, and no buttons on the list
        with pytest.raises(NoReverseMatch):
            page_url(label, page, obj)
        changelist = admin_client_root.get(page_url(label, "changelist", obj)).content.decode()
        assert "/import/" not in changelist and "/export/" not in changelist
        return
    response = admin_client_root.get(page_url(label, page, obj))
    assert response.status_code == 200, response.content[:2000]
    if page == "import_template":
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        return
    content = response.content.decode()
    if page in {"change", "history", "permissions"}:
        assert str(obj) in content or page == "permissions"
    if page == "import":
        assert 'name="import_file"' in content and 'name="delimiter"' in content
        assert "template.csv" in content and "template.xlsx" in content
        resource = model_admin.sheet_resources()[0]
        assert all(column.header in content for column in resource.columns)
    if page == "export":
        assert 'name="format"' in content
        resource = model_admin.sheet_resources()[0]
        assert content.count('name="columns"') == len(resource.columns)
    if page == "changelist" and model_admin.sheet_resources():
        assert page_url(label, "import", obj) in content  # the Import button
        assert page_url(label, "export", obj) in content
    if page == "change":
        # the object tools link to history and object permissions
        assert (
            reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_history", args=[obj.pk])
            in content
        )
        if model_admin.include_object_permissions_urls:
            assert "permissions/" in content


@pytest.mark.parametrize("label", sorted(ADMIN_CASES))
def test_changelist_query_count_is_bounded(admin_client_root, django_assert_max_num_queries, label):
    case = ADMIN_CASES[label]
    objects = [case.make() for _ in range(case.rows)]
    opts = objects[0]._meta
    with django_assert_max_num_queries(case.max_changelist_queries):
        response = admin_client_root.get(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        )
    assert response.status_code == 200
    assert case.list_text(objects[-1]) in response.content.decode()
