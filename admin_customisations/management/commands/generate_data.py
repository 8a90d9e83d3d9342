"""``manage.py generate_data``: synthetic data at scale (see fixtures/generator.py)."""

from django.core.management.base import BaseCommand, CommandError

from fixtures.generator import GenerateOptions, generate


class Command(BaseCommand):
    help = "Create realistic synthetic parts, stock, BOMs and orders fast (bulk inserts, history in bulk)."

    def add_arguments(self, parser):
        parser.add_argument("--parts", type=int, default=1000)
        parser.add_argument("--stock-items", type=int, default=10000)
        parser.add_argument("--orders", type=int, default=100)
        parser.add_argument("--bom-depth", type=int, default=3)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, **options):
        for name in ("parts", "stock_items", "orders", "batch_size"):
            if options[name] < 0 or (name in {"parts", "batch_size"} and options[name] < 1):
                raise CommandError(
                    f"--{name.replace('_', '-')} must be {'at least 1' if name in {'parts', 'batch_size'} else 'zero or more'}."
                )
        if not 1 <= options["bom_depth"] <= 10:
            raise CommandError("--bom-depth must be between 1 and 10.")
        opts = GenerateOptions(
            parts=options["parts"],
            stock_items=options["stock_items"],
            orders=options["orders"],
            bom_depth=options["bom_depth"],
            seed=options["seed"],
            batch_size=options["batch_size"],
        )
        try:
            counts = generate(opts, write=self.stdout.write)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            "Created: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
        )
