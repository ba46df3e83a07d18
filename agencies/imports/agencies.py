"""The agency CSV: import (checked whole, then written in bulk) and export."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit.services import audit_record
from core.csv_export import csv_text

from ..models import Agency, AgencyFunction, AgencyFunctionEntry, AgencyKind, Operation
from ..municipality_list import RowError, UnreadableFileError, decode, read_csv
from .agency_format import (
    _FUNCTION_ORDER,
    AGENCY_HEADER,
    FUNCTION_NAMES,
    KIND_NAMES,
    OPERATION_NAMES,
)
from .agency_rows import _agency_columns, _agency_row, _AgencyRow, _Lookups, _RowErrors
from .common import BATCH_SIZE, ImportReport, _check_may_import


def agencies_import(*, actor: User | None, data: bytes) -> ImportReport:
    """Create or update agencies from our agency CSV; never deletes one.

    A row names its agency by 機関ID (public_id) or, when that is empty, by implementing
    municipality and name. Every column is the truth for the agency it names: an empty optional
    cell clears the field, and the service area and functions are replaced by those listed.
    """
    _check_may_import(actor)
    try:
        records = iter(read_csv(decode(data)))
    except UnreadableFileError as error:
        return ImportReport(errors=[RowError(error.line, error.reason)])
    header = next(records, None)
    columns, header_errors = _agency_columns(header)
    if header_errors:
        return ImportReport(errors=header_errors)

    report = ImportReport()
    with transaction.atomic():
        lookups = _Lookups.load()
        rows: list[_AgencyRow] = []
        first_line_of_target: dict[Any, int] = {}
        for line, cells in records:
            errors = _RowErrors(line)
            row = _agency_row(line, cells, columns, lookups, errors)
            if row is not None:
                target = row.agency.pk or (row.agency.municipality_id, row.agency.name)
                if target in first_line_of_target:
                    errors.add(
                        _("This agency already appears on line %(first)s."),
                        first=first_line_of_target[target],
                    )
                else:
                    first_line_of_target[target] = line
            report.errors.extend(errors)
            if not errors:
                rows.append(row)
        if report.errors:
            return report

        _agencies_write(rows, report)
        audit_record(
            actor=actor,
            action="agency.imported",
            target=ContentType.objects.get_for_model(Agency),
            changes=report.audit_changes(),
        )
    return report


def _agencies_write(rows: list[_AgencyRow], report: ImportReport) -> None:
    now = timezone.now()
    new_rows = [row for row in rows if row.is_new]
    updated_rows = [row for row in rows if not row.is_new and row.changed]
    report.created = len(new_rows)
    report.updated = len(updated_rows)
    report.unchanged = len(rows) - len(new_rows) - len(updated_rows)

    new_agencies = [row.agency for row in new_rows]
    Agency.objects.bulk_create(new_agencies, batch_size=BATCH_SIZE)
    if any(agency.pk is None for agency in new_agencies):
        # Backends that cannot return ids from a bulk insert: one query for them all.
        ids = dict(
            Agency.objects.filter(
                public_id__in=[agency.public_id for agency in new_agencies]
            ).values_list("public_id", "pk")
        )
        for agency in new_agencies:
            agency.pk = ids[agency.public_id]

    changed_fields = set().union(*(row.changed_fields for row in updated_rows))
    for row in updated_rows:
        row.agency.updated_at = now  # bulk_update skips auto_now
    if updated_rows:
        Agency.objects.bulk_update(
            [row.agency for row in updated_rows],
            [*sorted(field.removesuffix("_id") for field in changed_fields), "updated_at"],
            batch_size=BATCH_SIZE,
        )

    # Service area and functions are replaced as listed, for the agencies where they changed.
    through = Agency.service_area.through
    area_rows = [row for row in rows if row.service_area_changed]
    through.objects.filter(
        agency_id__in=[row.agency.pk for row in area_rows if not row.is_new]
    ).delete()
    through.objects.bulk_create(
        [
            through(agency_id=row.agency.pk, municipality_id=municipality_id)
            for row in area_rows
            for municipality_id in row.service_area
        ],
        batch_size=BATCH_SIZE,
    )
    function_rows = [row for row in rows if row.functions_changed]
    AgencyFunctionEntry.objects.filter(
        agency_id__in=[row.agency.pk for row in function_rows if not row.is_new]
    ).delete()
    AgencyFunctionEntry.objects.bulk_create(
        [
            AgencyFunctionEntry(agency_id=row.agency.pk, function=function)
            for row in function_rows
            for function in row.functions
        ],
        batch_size=BATCH_SIZE,
    )


def agencies_export() -> str:
    """Every agency, active or not, in our agency CSV. Importing the result changes nothing."""
    agencies = (
        Agency.objects.select_related("municipality")
        .prefetch_related("service_area", "function_entries")
        .order_by("municipality__code", "name", "id")
    )
    rows = []
    for agency in agencies:
        functions = sorted(
            (entry.function for entry in agency.function_entries.all()),
            key=lambda function: _FUNCTION_ORDER[function],
        )
        rows.append(
            [
                str(agency.public_id),
                agency.name,
                agency.name_kana,
                KIND_NAMES[AgencyKind(agency.kind)],
                agency.municipality.code if agency.municipality else "",
                OPERATION_NAMES[Operation(agency.operation)],
                agency.contractor_name,
                " ".join(sorted(m.code for m in agency.service_area.all())),
                " ".join(FUNCTION_NAMES[AgencyFunction(function)] for function in functions),
                agency.postal_code,
                agency.address,
                agency.phone,
                agency.email,
                agency.opening_hours,
                agency.public_note,
                "1" if agency.receives_referrals else "0",
                agency.active_from.isoformat(),
                agency.active_until.isoformat() if agency.active_until else "",
            ]
        )
    return csv_text(AGENCY_HEADER, rows)
