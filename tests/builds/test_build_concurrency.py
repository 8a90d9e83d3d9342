"""Build services under concurrency (PostgreSQL only: SQLite serialises writers anyway).

Builds created at once: tests/orders/test_reference_concurrency.py (every numbered model).
"""

import threading

import pytest
from django.core.exceptions import ValidationError

from builds.models import BuildItem
from builds.services.build import build_allocate, build_order_create
from tests.builds.test_build_support import D
from tests.factories import BomItemFactory, PartFactory, StockItemFactory, UserFactory
from tests.inventory.test_stock_services import run_in_threads
from tests.services import require_postgres


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_cannot_over_allocate_an_item():
    require_postgres()
    user = UserFactory()
    widget = PartFactory(assembly=True)
    resistor = PartFactory()
    BomItemFactory(part=widget, sub_part=resistor, quantity=6)
    item = StockItemFactory(part=resistor, quantity=100)
    first = build_order_create(part=widget, quantity=10, user=user)
    second = build_order_create(part=widget, quantity=10, user=user)
    barrier = threading.Barrier(2, timeout=10)
    refusals = []

    def allocate_to(build):
        def run():
            barrier.wait()
            try:
                build_allocate(line=build.lines.get(), stock_item=item, quantity=60, user=user)
            except ValidationError as error:
                refusals.append(error)

        run.__name__ = f"allocate_{build.reference}"
        return run

    run_in_threads(allocate_to(first), allocate_to(second))
    assert len(refusals) == 1
    assert "Only 40 of 100" in str(refusals[0])
    assert [a.quantity for a in BuildItem.objects.all()] == [D(60)]
