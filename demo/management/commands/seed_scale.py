"""National-size data for the benchmarks: ``manage.py seed_scale --clients N --agencies M``.

PostgreSQL only (the rows go in through COPY); refuses to run in production, and on a database
that already has agencies or clients (fill a new database: ``createdb``, ``migrate``, then this).
The logins the benchmark uses are written to ``var/scale_accounts.json`` and printed.
"""

import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from agencies.models import Agency
from cases.models import Client
from demo.scale import ScaleSeeder


class Command(BaseCommand):
    help = "Fill an empty PostgreSQL database with national-size data in bulk (benchmarks only)."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=1_000_000)
        parser.add_argument("--agencies", type=int, default=1_400)
        parser.add_argument("--seed", type=int, default=13, help="the same seed, the same shape")

    def handle(self, *args, clients: int, agencies: int, seed: int, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_scale refuses to run in production (DJANGO_ENV=production).")
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_scale needs PostgreSQL (it loads rows with COPY): set DATABASE_URL to a "
                f"PostgreSQL database (this one is {connection.vendor})."
            )
        if agencies < 2 or clients < 10:
            raise CommandError("Give at least --agencies 2 and --clients 10.")
        if Agency.objects.exists() or Client.objects.exists():
            raise CommandError(
                "This database already has agencies or clients: seed_scale fills an empty "
                "database only, once. Create a new one, run migrate, then seed_scale."
            )
        password = secrets.token_urlsafe(12)
        seeder = ScaleSeeder(
            clients=clients, agencies=agencies, seed=seed, password=password, progress=self._say
        )
        result = seeder.run()
        large, sample = result["large"], result["sample"]
        accounts = {
            "password": password,
            "caseworker": "scale_caseworker",
            "supervisor": "scale_supervisor",
            "system_admin": result["admin"],
            "agency": {"name": large.name, "public_id": str(large.public_id)},
            "sample_client": sample.client_public_id,
            "sample_client_kana": sample.client_kana,
            "sample_referral": sample.referral_public_id,
            "counts": result["counts"],
        }
        path = settings.VAR_DIR / "scale_accounts.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(accounts, indent=2, ensure_ascii=False))
        path.chmod(0o600)
        self.stdout.write(self.style.SUCCESS(f"Scale accounts (also in {path}):"))
        self.stdout.write(f"  password          {password}")
        self.stdout.write(f"  scale_caseworker  caseworker, {large.name}")
        self.stdout.write(f"  scale_supervisor  supervisor, {large.name}")
        self.stdout.write(f"  {result['admin']:<17} system administrator")
        self.stdout.write(f"  sample client     /cases/clients/{sample.client_public_id}/")
        self.stdout.write(f"  sample referral   {sample.referral_public_id}")

    def _say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()
