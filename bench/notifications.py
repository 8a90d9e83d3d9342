"""Benchmark: the scheduled checks (admin_customisations/notifications/checks.py) at scale.

    .venv/bin/python bench/notifications.py            # on the admin_pages dataset (1M items)
    .venv/bin/python bench/notifications.py --quick    # 1/20 scale (var/bench-quick)

Uses the dataset of bench/admin_pages.py (built if missing), subscribes one staff user with
an email address to the generated category tree (every generated part), then times each
check's first run (raising every notification, locmem email) and its second run (nothing
new: the steady state every night), and removes the notifications again. Figures go to
docs/performance.md; nothing here is asserted.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--quick", action="store_true", help="1/20 scale dataset")
ARGS = parser.parse_args()

from bench._dataset import ensure_dataset, setup_django  # noqa: E402

setup_django(quick=ARGS.quick)

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from admin_customisations.models import Notification  # noqa: E402
from admin_customisations.notifications import checks, services  # noqa: E402
from inventory.models import PartSubscription, StockItem  # noqa: E402


def main():
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    root = ensure_dataset(quick=ARGS.quick)
    user, _ = get_user_model().objects.get_or_create(
        username="bench-notified", defaults={"is_staff": True, "email": "bench@example.com"}
    )
    Notification.objects.filter(recipient=user).delete()
    PartSubscription.objects.get_or_create(user=user, category=root)
    print(
        f"{connection.vendor}: {StockItem.objects.count():,} stock items, "
        f"subscribed to {root.pathstring} and below"
    )
    for name, check in checks.CHECKS.items():
        for run in ("first run", "second run"):
            started = time.perf_counter()
            raised = check()
            sent = services.send_pending_emails()
            ms = (time.perf_counter() - started) * 1000
            print(f"  {name:<16} {run:<11} {ms:9.0f} ms  raised {raised:,}, emails {sent}")
    Notification.objects.filter(recipient=user).delete()


if __name__ == "__main__":
    main()
