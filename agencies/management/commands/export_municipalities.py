"""Write the municipalities in the ministry's layout, to stdout or a file."""

from django.core.management.base import BaseCommand

from agencies.imports import municipalities_export

from .export_agencies import add_output_arguments, write_csv


class Command(BaseCommand):
    help = "Export the municipalities in the ministry's code-list layout (UTF-8 CSV)."

    def add_arguments(self, parser):
        add_output_arguments(parser)

    def handle(self, *args, output, excel: bool, **options):
        write_csv(self, municipalities_export(), output=output, excel=excel)
