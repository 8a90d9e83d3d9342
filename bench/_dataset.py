"""Start-up shared by the benchmarks that use the admin page dataset (bench/admin_pages.py)."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
