"""Import the ministry's municipality code list: every row is checked before anything is written."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext

from agencies.imports import municipalities_import
from agencies.municipality_list import BUNDLED_FILE


class Command(BaseCommand):
    help = (
        "Import the municipality code list (ministry layout, UTF-8 or Shift_JIS CSV). "
        "Nothing is written if any row is bad; hand corrections of kind and welfare office stay."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("path", nargs="?", type=Path, help="the CSV file to import")
        source.add_argument(
            "--bundled", action="store_true", help=f"import the shipped list ({BUNDLED_FILE.name})"
        )

    def handle(self, *args, path: Path | None, bundled: bool, **options):
        data = read_bytes(BUNDLED_FILE if bundled else path)
        # actor=None: the system itself, as recorded in the audit trail.
        report = municipalities_import(actor=None, data=data)
        print_report(self, report)


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CommandError(
            gettext("Cannot read %(path)s: %(reason)s") % {"path": path, "reason": error.strerror}
        ) from None


def print_report(command: BaseCommand, report) -> None:
    """Every bad row with its line and reason, in Japanese, for the office that sent the file."""
    with translation.override("ja"):
        for error in report.errors:
            command.stderr.write(str(error))
        if not report.ok:
            raise CommandError(report.summary())
        command.stdout.write(command.style.SUCCESS(report.summary()))
