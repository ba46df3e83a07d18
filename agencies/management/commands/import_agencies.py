"""Import agencies from our agency CSV (docs/agency-csv.md); nothing is written if a row is bad."""

from pathlib import Path

from django.core.management.base import BaseCommand

from agencies.imports import agencies_import

from .import_municipalities import print_report, read_bytes


class Command(BaseCommand):
    help = (
        "Create or update agencies from an agency CSV (see docs/agency-csv.md), UTF-8 or "
        "Shift_JIS. Nothing is written if any row is bad; agencies are never deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the CSV file to import")

    def handle(self, *args, path: Path, **options):
        # actor=None: the system itself, as recorded in the audit trail.
        report = agencies_import(actor=None, data=read_bytes(path))
        print_report(self, report)
