"""The part list's search: IPN prefix, full text on name, description and keywords
(PostgreSQL GIN index on to_tsvector, SQLite FTS5 table kept in sync by triggers), and odd
input that must never reach the full-text syntax. Runs on the database DATABASE_URL names."""

import pytest
from django.db import connection

from inventory.models import Part, StockItem
from inventory.search import part_autocomplete_q, part_search_q, search_words
from tests.factories import PartFactory, StockItemFactory

LIST = "/admin/inventory/part/"


def found(term) -> set[str]:
    return set(Part.objects.filter(part_search_q(term)).values_list("name", flat=True))


@pytest.fixture
def parts(db):
    return {
        "resistor": PartFactory(
            name="Resistor 10k",
            ipn="R-0603-10K",
            description="Thick film chip resistor, 1% tolerance",
            keywords="smd passive",
        ),
        "capacitor": PartFactory(
            name="Capacitor 100n",
            ipn="C-0402-100N",
            description="Ceramic capacitor X7R",
            keywords="decoupling",
        ),
        "motor": PartFactory(
            name="Stepper motor",
            ipn="M-17",
            description="NEMA 17 stepper, 1.8° per step",
            keywords="",
        ),
    }


@pytest.mark.django_db
class TestPartSearch:
    def test_word_of_description(self, parts):
        assert found("ceramic") == {"Capacitor 100n"}

    def test_word_prefix_in_name_description_or_keywords(self, parts):
        assert found("resis") == {"Resistor 10k"}
        assert found("step") == {"Stepper motor"}
        assert found("decoup") == {"Capacitor 100n"}

    def test_every_word_must_match_in_any_order(self, parts):
        assert found("tolerance thick") == {"Resistor 10k"}
        assert found("ceramic resistor") == set()

    def test_case_insensitive(self, parts):
        assert found("CERAMIC") == {"Capacitor 100n"}

    def test_ipn_prefix_ignoring_case(self, parts):
        assert found("r-0603") == {"Resistor 10k"}
        assert found("M-17") == {"Stepper motor"}

    def test_updated_part_is_found_by_new_words_only(self, parts):
        part = parts["motor"]
        part.description = "Brushless gimbal drive"
        part.save()
        assert found("gimbal") == {"Stepper motor"}
        assert found("nema") == set()
        Part.objects.filter(pk=part.pk).update(keywords="robotics")
        assert found("robot") == {"Stepper motor"}

    def test_deleted_part_is_not_found(self, parts):
        part = PartFactory(name="Obsolete relay", ipn="", description="Reed relay")
        assert found("reed") == {"Obsolete relay"}
        part.delete()
        assert found("reed") == set()
        assert found("ceramic") == {"Capacitor 100n"}

    @pytest.mark.parametrize(
        "term",
        ['"', '"resistor', "resis*", "*", "-", "-resistor", "resistor OR", "NEAR(a b)",
         "a:b", "'", "''", "(", ")", "^", "\\", "%", "_", "resistor AND NOT", "&|!",
         "name:resistor", "x" * 500, "é", "🙂", "\x00"],
    )  # fmt: skip
    def test_odd_input_never_errors(self, parts, term):
        result = found(term)
        assert result <= {p.name for p in parts.values()}

    def test_operators_are_plain_words(self, parts):
        assert found('"resis*') == {"Resistor 10k"}
        assert found("-ceramic") == {"Capacitor 100n"}
        assert found("resistor OR capacitor") == set()  # "or" is a word, not an operator
        assert found("*") == set()

    def test_usable_as_a_subquery(self, parts):
        """Actions and exports filter other tables by the changelist's parts."""
        item = StockItemFactory(part=parts["capacitor"])
        StockItemFactory(part=parts["motor"])
        matched = Part.objects.filter(part_search_q("ceramic"))
        assert list(StockItem.objects.filter(part__in=matched)) == [item]
        matched = Part.objects.filter(part_autocomplete_q("capa"))
        assert list(StockItem.objects.filter(part__in=matched)) == [item]
        assert list(Part.objects.filter(pk__in=matched)) == [parts["capacitor"]]

    def test_search_words(self):
        assert search_words(' Foo-bar "baz*" _x_ ') == ["foo", "bar", "baz", "x"]
        assert search_words("* - ' \"") == []
        assert len(search_words("a " * 100)) == 8

    def test_empty_term_matches_everything(self, parts):
        assert found("  ") == {p.name for p in parts.values()}


@pytest.mark.django_db
class TestPartListSearch:
    def test_list_search_by_description_word(self, admin_client, parts):
        response = admin_client.get(LIST, {"q": "ceramic"})
        assert response.status_code == 200
        assert [p.pk for p in response.context["cl"].result_list] == [parts["capacitor"].pk]

    @pytest.mark.parametrize("term", ['"', "*", "-", "NEAR(", "':*", "a & | b"])
    def test_list_odd_input_is_a_normal_page(self, admin_client, parts, term):
        response = admin_client.get(LIST, {"q": term})
        assert response.status_code == 200

    def test_autocomplete_is_prefix_of_ipn_or_name(self, admin_client, parts):
        url = "/admin/autocomplete/?app_label=inventory&model_name=stockitem&field_name=part"
        response = admin_client.get(url + "&term=step")
        assert response.status_code == 200
        assert [r["id"] for r in response.json()["results"]] == [str(parts["motor"].pk)]
        response = admin_client.get(url + "&term=ceramic")  # description: not in autocomplete
        assert response.json()["results"] == []


@pytest.mark.django_db
def test_sqlite_triggers_installed():
    """A future migration that rebuilds inventory_part on SQLite (Django copies the table and
    drops the old one, with its triggers) must reinstall the FTS triggers of migration 0010."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite FTS5 triggers")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'inventory_part'"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert {"inventory_part_fts_ai", "inventory_part_fts_ad", "inventory_part_fts_au"} <= names
