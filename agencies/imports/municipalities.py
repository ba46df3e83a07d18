"""The ministry's municipality list (全国地方公共団体コード): import and export."""

from dataclasses import replace

import jaconv
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from core.csv_export import csv_text

from ..models import Municipality
from ..municipality_list import HEADER as MUNICIPALITY_HEADER
from ..municipality_list import MunicipalityRow, is_prefecture_code, parse_municipality_list
from .common import BATCH_SIZE, ImportReport, _check_may_import, _read_cell

# --- Municipalities ----------------------------------------------------------------------------


def municipalities_import(*, actor: User | None, data: bytes) -> ImportReport:
    """Bring the municipalities in line with the ministry's list, keyed by code.

    Names, readings and prefectures follow the file. Kind and welfare office follow it only
    where a system admin has not corrected them by hand (``*_is_manual``). Municipalities
    missing from the file are kept: agencies and records point at them.
    """
    _check_may_import(actor)
    parsed = parse_municipality_list(data)
    if not parsed.ok:
        return ImportReport(errors=parsed.errors)
    rows = [_without_export_quotes(row) for row in parsed.rows]

    report = ImportReport()
    now = timezone.now()
    with transaction.atomic():
        # Locked, so a system admin's correction (municipality_correct locks its row too) cannot
        # land between reading a row here and writing it back. A second import at the same
        # time waits, and at worst fails on the unique code instead of writing a row twice.
        existing = {m.code: m for m in Municipality.objects.select_for_update().order_by()}
        prefecture_rows = [row for row in rows if row.is_prefecture]
        other_rows = [row for row in rows if not row.is_prefecture]

        # Prefectures first: every other row points at one.
        created = _municipalities_upsert(prefecture_rows, existing, {}, report, now)
        prefecture_ids = {
            code: municipality.pk
            for code, municipality in existing.items()
            if is_prefecture_code(code)
        }
        prefecture_ids.update(_pks_by_code(created))
        _municipalities_upsert(other_rows, existing, prefecture_ids, report, now)

        audit_record(
            actor=actor,
            action="municipality.imported",
            target=ContentType.objects.get_for_model(Municipality),
            changes=report.audit_changes(),
        )
    return report


def _without_export_quotes(row: MunicipalityRow) -> MunicipalityRow:
    """The row without the quote our export puts before a name that starts like a formula
    (core.csv_export), so that the export imported again is unchanged."""
    return replace(
        row,
        prefecture_name=_read_cell(row.prefecture_name),
        name=_read_cell(row.name),
        name_kana=_read_cell(row.name_kana),
    )


def _municipalities_upsert(rows, existing, prefecture_ids, report, now) -> list[Municipality]:
    to_create: list[Municipality] = []
    to_update: list[Municipality] = []
    changed_fields: set[str] = set()
    for row in rows:
        values = {
            "name": row.name,
            "name_kana": row.name_kana,
            "prefecture_id": prefecture_ids[row.prefecture_code] if row.prefecture_code else None,
            "search_key": row.search_key,
        }
        municipality = existing.get(row.code)
        if municipality is None:
            to_create.append(
                Municipality(
                    code=row.code,
                    kind=row.kind,
                    has_welfare_office=row.has_welfare_office,
                    **values,
                )
            )
            continue
        # A system admin's correction is never overwritten by the ministry's list.
        if not municipality.kind_is_manual:
            values["kind"] = row.kind
        if not municipality.welfare_office_is_manual:
            values["has_welfare_office"] = row.has_welfare_office
        changed = {name for name, value in values.items() if getattr(municipality, name) != value}
        if not changed:
            report.unchanged += 1
            continue
        for name in changed:
            setattr(municipality, name, values[name])
        municipality.updated_at = now  # bulk_update skips auto_now
        changed_fields |= changed
        to_update.append(municipality)

    Municipality.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    if to_update:
        Municipality.objects.bulk_update(
            to_update, [*sorted(changed_fields), "updated_at"], batch_size=BATCH_SIZE
        )
    report.created += len(to_create)
    report.updated += len(to_update)
    return to_create


def _pks_by_code(created: list[Municipality]) -> dict[str, int]:
    if all(m.pk is not None for m in created):
        return {m.code: m.pk for m in created}
    # Backends that cannot return ids from a bulk insert: one query for them all.
    return dict(
        Municipality.objects.filter(code__in=[m.code for m in created]).values_list("code", "pk")
    )


def municipalities_export() -> str:
    """The municipalities in the ministry's layout, half-width kana as the ministry publishes.

    Importing the result again changes nothing.
    """
    rows = []
    for municipality in Municipality.objects.select_related("prefecture").order_by("code"):
        kana = jaconv.z2h(municipality.name_kana, kana=True, ascii=False, digit=False)
        if is_prefecture_code(municipality.code) or municipality.prefecture is None:
            rows.append([municipality.code, municipality.name, "", kana, ""])
        else:
            prefecture = municipality.prefecture
            prefecture_kana = jaconv.z2h(prefecture.name_kana, kana=True, ascii=False, digit=False)
            rows.append(
                [municipality.code, prefecture.name, municipality.name, prefecture_kana, kana]
            )
    return csv_text(MUNICIPALITY_HEADER, rows)
