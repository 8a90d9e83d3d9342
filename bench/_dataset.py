"""Start-up shared by the benchmarks that use the admin page dataset (bench/admin_pages.py)."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The dataset of the scale issue (generate_data) and its 1/20 version (--quick).
FULL = {"parts": 100_000, "stock_items": 1_000_000, "orders": 1000, "bom_depth": 4, "seed": 1}
QUICK = {"parts": 5_000, "stock_items": 50_000, "orders": 50, "bom_depth": 4, "seed": 1}


def setup_django(*, quick: bool) -> None:
    """Settings and the var dir of the dataset (``var/bench-quick`` for ``--quick``, else
    ``STOCKROOM_VAR_DIR`` or ``var/bench``), then ``django.setup()``."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if quick:
        os.environ["STOCKROOM_VAR_DIR"] = str(ROOT / "var" / "bench-quick")
    else:
        os.environ.setdefault("STOCKROOM_VAR_DIR", str(ROOT / "var" / "bench"))
    Path(os.environ["STOCKROOM_VAR_DIR"]).mkdir(parents=True, exist_ok=True)

    import django

    django.setup()


def ensure_dataset(*, quick: bool):
    """Migrate, and build the dataset (demo data + ``generate_data``) unless it is there;
    returns the generated category tree's root."""
    import time

    from django.core.management import call_command

    from inventory.models import PartCategory

    call_command("migrate", verbosity=0)
    size = QUICK if quick else FULL
    root_name = f"Generated {size['seed']}"
    if not PartCategory.objects.filter(name=root_name, parent=None).exists():
        print(f"building the dataset ({size}) ...", flush=True)
        started = time.perf_counter()
        call_command("load_demo", verbosity=0)
        call_command("generate_data", verbosity=0, **size)
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    return PartCategory.objects.get(name=root_name, parent=None)
