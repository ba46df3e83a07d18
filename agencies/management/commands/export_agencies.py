"""Write every agency in our agency CSV (docs/agency-csv.md), to stdout or a file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from agencies.imports import agencies_export


class Command(BaseCommand):
    help = "Export every agency as an agency CSV (see docs/agency-csv.md), UTF-8."

    def add_arguments(self, parser):
        add_output_arguments(parser)

    def handle(self, *args, output, excel: bool, **options):
        write_csv(self, agencies_export(), output=output, excel=excel)


def add_output_arguments(parser) -> None:
    parser.add_argument(
        "-o", "--output", type=Path, help="write to this file instead of standard output"
    )
    parser.add_argument(
        "--excel",
        action="store_true",
        help="start with a byte-order mark, so that Excel reads the UTF-8 correctly",
    )


def write_csv(command: BaseCommand, text: str, *, output: Path | None, excel: bool) -> None:
    # Excel takes a UTF-8 file without a BOM for Shift_JIS and garbles every Japanese cell.
    if excel:
        text = "\ufeff" + text
    if output is None:
        command.stdout.write(text, ending="")
        return
    try:
        output.write_bytes(text.encode("utf-8"))
    except OSError as error:
        message = gettext("Cannot write %(path)s: %(reason)s")
        raise CommandError(message % {"path": output, "reason": error.strerror}) from None
