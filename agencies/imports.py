"""Imports and exports: the ministry's municipality list and our agency CSV (docs/agency-csv.md).

Both imports check the whole file before writing anything. One bad row means nothing is written
and the report lists every bad row with its line, so the office fixes the file once and uploads
it again. A clean file is written in one transaction with bulk queries (a dict of the existing
rows, never one query per row) and one audit entry; running it again writes nothing.
"""

import csv
import datetime
import io
import re
import unicodedata
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import jaconv
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit.services import audit_record
from core.japanese import search_key, to_katakana

from .codes import is_valid_local_government_code
from .models import (
    Agency,
    AgencyFunction,
    AgencyFunctionEntry,
    AgencyKind,
    Municipality,
    Operation,
)
from .municipality_list import (
    HEADER as MUNICIPALITY_HEADER,
)
from .municipality_list import (
    LOST_ZERO_MESSAGE,
    Message,
    RowError,
    UnreadableFileError,
    decode,
    is_prefecture_code,
    lost_leading_zero,
    normalise_header,
    parse_municipality_list,
    read_csv,
)
from .permissions import is_system_admin

BATCH_SIZE = 500


def _check_may_import(actor: User | None) -> None:
    """Only system admins import; ``None`` is the system itself (the management commands)."""
    if actor is not None and not is_system_admin(actor):
        raise PermissionDenied


@dataclass
class ImportReport:
    """What an import did, or, when ``errors`` is not empty, why it wrote nothing."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_lines(self) -> list[int]:
        return sorted({error.line for error in self.errors})

    def summary(self) -> str:
        if self.errors:
            count = len(self.bad_lines)
            return ngettext(
                "%(count)s row is bad; nothing was imported.",
                "%(count)s rows are bad; nothing was imported.",
                count,
            ) % {"count": count}
        return gettext(
            "Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged."
        ) % {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}

    def audit_changes(self) -> dict[str, list[Any]]:
        return {
            "created": [None, self.created],
            "updated": [None, self.updated],
            "unchanged": [None, self.unchanged],
        }


def _csv_text(header, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


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

    report = ImportReport()
    now = timezone.now()
    with transaction.atomic():
        # Locked, so a system admin's correction (municipality_correct locks its row too) cannot
        # land between reading a row here and writing it back. A second import at the same
        # time waits, and at worst fails on the unique code instead of writing a row twice.
        existing = {m.code: m for m in Municipality.objects.select_for_update().order_by()}
        prefecture_rows = [row for row in parsed.rows if row.is_prefecture]
        other_rows = [row for row in parsed.rows if not row.is_prefecture]

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
    return _csv_text(MUNICIPALITY_HEADER, rows)


# --- Agencies ----------------------------------------------------------------------------------

# The file's columns (docs/agency-csv.md). Column names are part of the file format, not of the
# interface, so they are not translated.
COL_ID = "機関ID"
COL_NAME = "名称"
COL_KANA = "名称カナ"
COL_KIND = "種別"
COL_MUNICIPALITY = "実施主体コード"
COL_OPERATION = "運営形態"
COL_CONTRACTOR = "受託法人名"
COL_SERVICE_AREA = "提供地域コード"
COL_FUNCTIONS = "機能"
COL_POSTAL_CODE = "郵便番号"
COL_ADDRESS = "住所"
COL_PHONE = "電話"
COL_EMAIL = "メール"
COL_OPENING_HOURS = "開所時間"
COL_PUBLIC_NOTE = "利用者向け案内"
COL_RECEIVES_REFERRALS = "つなぎ受付"
COL_ACTIVE_FROM = "開始日"
COL_ACTIVE_UNTIL = "終了日"

AGENCY_HEADER = (
    COL_ID,
    COL_NAME,
    COL_KANA,
    COL_KIND,
    COL_MUNICIPALITY,
    COL_OPERATION,
    COL_CONTRACTOR,
    COL_SERVICE_AREA,
    COL_FUNCTIONS,
    COL_POSTAL_CODE,
    COL_ADDRESS,
    COL_PHONE,
    COL_EMAIL,
    COL_OPENING_HOURS,
    COL_PUBLIC_NOTE,
    COL_RECEIVES_REFERRALS,
    COL_ACTIVE_FROM,
    COL_ACTIVE_UNTIL,
)

# Model field -> column, to name the column in the model's own validation messages.
_COLUMN_OF_FIELD = {
    "name": COL_NAME,
    "name_kana": COL_KANA,
    "kind": COL_KIND,
    "operation": COL_OPERATION,
    "contractor_name": COL_CONTRACTOR,
    "postal_code": COL_POSTAL_CODE,
    "address": COL_ADDRESS,
    "phone": COL_PHONE,
    "email": COL_EMAIL,
    "opening_hours": COL_OPENING_HOURS,
    "public_note": COL_PUBLIC_NOTE,
    "receives_referrals": COL_RECEIVES_REFERRALS,
    "active_from": COL_ACTIVE_FROM,
    "active_until": COL_ACTIVE_UNTIL,
}
# The fields an import writes, compared with the stored agency to tell an update from no change.
_AGENCY_FIELDS = (
    "name",
    "name_kana",
    "kind",
    "municipality_id",
    "operation",
    "contractor_name",
    "postal_code",
    "address",
    "phone",
    "email",
    "opening_hours",
    "public_note",
    "receives_referrals",
    "active_from",
    "active_until",
    "search_key",
)

# The Japanese names the export writes. They are fixed here, not read from the translation
# catalogue, so a file written today still imports after the catalogue's wording changes.
KIND_NAMES = {
    AgencyKind.SELF_RELIANCE: "自立相談支援機関",
    AgencyKind.HIKIKOMORI_CENTER: "ひきこもり地域支援センター",
    AgencyKind.HIKIKOMORI_STATION: "ひきこもり支援ステーション",
    AgencyKind.HIKIKOMORI_PROJECT: "ひきこもりサポート事業",
    AgencyKind.YOUTH_SUPPORT_STATION: "地域若者サポートステーション",
    AgencyKind.MENTAL_HEALTH_CENTER: "精神保健福祉センター",
    AgencyKind.PUBLIC_HEALTH_CENTER: "保健所",
    AgencyKind.SOCIAL_WELFARE_COUNCIL: "社会福祉協議会",
    AgencyKind.HELLO_WORK: "ハローワーク",
    AgencyKind.YOUTH_CONSULTATION_CENTER: "子ども・若者総合相談センター",
    AgencyKind.CONSUMER_CENTER: "消費生活センター",
    AgencyKind.EDUCATION: "教育機関",
    AgencyKind.MEDICAL: "医療機関",
    AgencyKind.NPO: "NPO・民間支援団体",
    AgencyKind.FAMILY_OR_PEER_GROUP: "家族会・当事者会",
    AgencyKind.WELFARE_COMMISSIONERS: "民生委員・児童委員協議会",
    AgencyKind.WORK_EXPERIENCE: "就労体験先",
    AgencyKind.OTHER: "その他",
}
OPERATION_NAMES = {Operation.DIRECT: "直営", Operation.CONTRACTED: "委託"}
FUNCTION_NAMES = {
    AgencyFunction.CONSULTATION: "相談支援",
    AgencyFunction.PLACE_TO_BE: "居場所づくり",
    AgencyFunction.NETWORKING: "地域のネットワークづくり",
    AgencyFunction.FAMILY_PEER_MEETINGS: "当事者会・家族会の開催",
    AgencyFunction.PUBLIC_AWARENESS: "住民への普及啓発",
    AgencyFunction.MULTIDISCIPLINARY_TEAM: "多職種専門チーム",
    AgencyFunction.MUNICIPAL_BACKUP: "市町村への後方支援",
    AgencyFunction.SELF_RELIANCE_CONSULTATION: "自立相談支援事業",
    AgencyFunction.WORK_PREPARATION: "就労準備支援事業",
    AgencyFunction.HOUSEHOLD_FINANCE: "家計改善支援事業",
    AgencyFunction.CERTIFIED_WORK_TRAINING: "認定就労訓練事業",
    AgencyFunction.HOUSING_BENEFIT: "住居確保給付金",
    AgencyFunction.CHILDREN_LEARNING: "子どもの学習・生活支援事業",
    AgencyFunction.HOUSING_SUPPORT: "居住支援事業",
}
_FUNCTION_ORDER = {function: index for index, function in enumerate(AgencyFunction)}

_LIST_SEPARATORS = re.compile(r"[\s;；、,，]+")
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")


def _lookup(choices: type, fixed_names: dict) -> dict[str, str]:
    """Every spelling a cell may use for a choice: value, fixed Japanese name, and label."""
    table = {}
    for choice in choices:
        table[choice.value] = choice.value
        table[fixed_names[choice]] = choice.value
        for language in ("en", "ja"):
            with translation.override(language):
                table[str(choice.label)] = choice.value
    return {_normalise_choice(key): value for key, value in table.items()}


def _normalise_choice(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


@dataclass
class _Lookups:
    """Everything the rows are checked against, read in a handful of queries."""

    municipality_ids: dict[str, int]
    agencies_by_public_id: dict[str, Agency]
    agencies_by_key: dict[tuple[int | None, str], list[Agency]]
    service_areas: dict[int, frozenset[int]]
    functions: dict[int, frozenset[str]]
    kinds: dict[str, str]
    operations: dict[str, str]
    function_values: dict[str, str]

    @classmethod
    def load(cls) -> "_Lookups":
        # Locked, so no agency changes between the check of a row and its write; no ORDER BY,
        # the rows go into dicts.
        agencies = list(Agency.objects.select_for_update().order_by())
        by_key: dict[tuple[int | None, str], list[Agency]] = defaultdict(list)
        for agency in agencies:
            by_key[(agency.municipality_id, agency.name)].append(agency)
        service_areas = defaultdict(set)
        for agency_id, municipality_id in Agency.service_area.through.objects.values_list(
            "agency_id", "municipality_id"
        ):
            service_areas[agency_id].add(municipality_id)
        functions = defaultdict(set)
        for agency_id, function in AgencyFunctionEntry.objects.values_list("agency_id", "function"):
            functions[agency_id].add(function)
        return cls(
            municipality_ids=dict(Municipality.objects.order_by().values_list("code", "pk")),
            agencies_by_public_id={str(agency.public_id): agency for agency in agencies},
            agencies_by_key=by_key,
            service_areas={key: frozenset(value) for key, value in service_areas.items()},
            functions={key: frozenset(value) for key, value in functions.items()},
            kinds=_lookup(AgencyKind, KIND_NAMES),
            operations=_lookup(Operation, OPERATION_NAMES),
            function_values=_lookup(AgencyFunction, FUNCTION_NAMES),
        )


@dataclass
class _AgencyRow:
    line: int
    agency: Agency
    is_new: bool
    changed_fields: set[str]
    service_area: frozenset[int]
    service_area_changed: bool
    functions: frozenset[str]
    functions_changed: bool

    @property
    def changed(self) -> bool:
        return self.is_new or bool(
            self.changed_fields or self.service_area_changed or self.functions_changed
        )


class _RowErrors(list):
    """The errors of one row, and the columns they were about."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.columns: set[str] = set()

    def add(self, text, **params) -> None:
        self.append(RowError(self.line, Message(text, params)))
        if "column" in params:
            self.columns.add(params["column"])


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


def _agency_columns(header) -> tuple[dict[str, int], list[RowError]]:
    line = header[0] if header else 1
    errors = _RowErrors(line)
    if header is None:
        errors.add(
            _("The first line must be the header %(header)s."), header=",".join(AGENCY_HEADER)
        )
        return {}, errors
    known = {normalise_header(column): column for column in AGENCY_HEADER}
    columns: dict[str, int] = {}
    for index, cell in enumerate(header[1]):
        column = known.get(normalise_header(cell))
        if column is None:
            errors.add(_("The header has an unknown column %(column)s."), column=cell.strip())
        elif column in columns:
            errors.add(_("The header names the column %(column)s twice."), column=column)
        else:
            columns[column] = index
    for column in AGENCY_HEADER:
        if column not in columns:
            errors.add(_("The header is missing the column %(column)s."), column=column)
    return columns, errors


def _agency_row(line, cells, columns, lookups: _Lookups, errors: _RowErrors) -> _AgencyRow | None:
    if len(cells) != len(columns):
        errors.add(
            _("The row has %(count)s columns; it must have %(expected)s."),
            count=len(cells),
            expected=len(columns),
        )
        return None
    cell = {column: cells[index].strip() for column, index in columns.items()}

    name = cell[COL_NAME]
    name_kana = to_katakana(cell[COL_KANA])
    kind = _choice(cell, COL_KIND, lookups.kinds, errors, required=True)
    operation = _choice(cell, COL_OPERATION, lookups.operations, errors) or Operation.DIRECT
    municipality_id = _municipality(cell, COL_MUNICIPALITY, lookups, errors)
    service_area = frozenset(
        filter(None, (_code_id(code, lookups, errors) for code in _split(cell[COL_SERVICE_AREA])))
    )
    functions = frozenset(
        filter(None, (_function(value, lookups, errors) for value in _split(cell[COL_FUNCTIONS])))
    )
    receives_referrals = _flag(cell, COL_RECEIVES_REFERRALS, errors)
    active_from = _date(cell, COL_ACTIVE_FROM, errors)
    active_until = _date(cell, COL_ACTIVE_UNTIL, errors)
    agency = _target_agency(cell, name, municipality_id, lookups, errors)
    # A row whose agency cannot be told is still checked, against a blank agency, so that
    # every problem on the row is reported at once.
    checked = agency or Agency()
    is_new = checked.pk is None
    before = {f: getattr(checked, f) for f in _AGENCY_FIELDS}

    checked.name = name
    checked.name_kana = name_kana
    checked.kind = kind or ""
    checked.municipality_id = municipality_id
    checked.operation = operation
    checked.contractor_name = cell[COL_CONTRACTOR]
    checked.postal_code = unicodedata.normalize("NFKC", cell[COL_POSTAL_CODE])
    checked.address = cell[COL_ADDRESS]
    checked.phone = cell[COL_PHONE]
    checked.email = cell[COL_EMAIL]
    checked.opening_hours = cell[COL_OPENING_HOURS]
    checked.public_note = cell[COL_PUBLIC_NOTE]
    checked.receives_referrals = receives_referrals
    if active_from is not None:
        checked.active_from = active_from
    checked.active_until = active_until
    checked.search_key = search_key(name, name_kana)

    # Field checks only, and not again for a cell already reported above. The municipality is
    # already resolved from the lookups, and the table constraints are checked below with
    # messages that name the columns: full_clean would spend queries on each row for both.
    exclude = {"municipality", "public_id", "search_key"}
    exclude |= {f for f, column in _COLUMN_OF_FIELD.items() if column in errors.columns}
    try:
        checked.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for field_name, field_errors in error.error_dict.items():
            for field_error in field_errors:
                errors.add(
                    _("%(column)s: %(message)s"),
                    column=_COLUMN_OF_FIELD.get(field_name, field_name),
                    message=Message(field_error.message, field_error.params or {}),
                )
    if checked.operation == Operation.CONTRACTED and not checked.contractor_name:
        errors.add(
            _("%(column)s must name the contractor of an agency that is contracted out."),
            column=COL_CONTRACTOR,
        )
    if (
        isinstance(checked.active_until, datetime.date)
        and isinstance(checked.active_from, datetime.date)
        and checked.active_until < checked.active_from
    ):
        errors.add(
            _("%(until)s (%(until_value)s) is before %(from)s (%(from_value)s)."),
            until=COL_ACTIVE_UNTIL,
            until_value=checked.active_until.isoformat(),
            **{"from": COL_ACTIVE_FROM, "from_value": checked.active_from.isoformat()},
        )
    if errors or agency is None:
        return None

    old_area = frozenset() if is_new else lookups.service_areas.get(agency.pk, frozenset())
    old_functions = frozenset() if is_new else lookups.functions.get(agency.pk, frozenset())
    return _AgencyRow(
        line=line,
        agency=agency,
        is_new=is_new,
        changed_fields=(
            set() if is_new else {f for f in _AGENCY_FIELDS if getattr(agency, f) != before[f]}
        ),
        service_area=service_area,
        service_area_changed=service_area != old_area,
        functions=functions,
        functions_changed=functions != old_functions,
    )


def _split(text: str) -> list[str]:
    return [part for part in _LIST_SEPARATORS.split(text) if part]


def _choice(cell, column, table, errors, *, required=False) -> str | None:
    value = cell[column]
    if not value:
        if required:
            errors.add(_("%(column)s is missing."), column=column)
        return None
    choice = table.get(_normalise_choice(value))
    if choice is None:
        errors.add(
            _("%(column)s: %(value)s is not one of the choices."), column=column, value=value
        )
    return choice


def _code(raw: str) -> str:
    # Full-width digits are common in hand-typed sheets.
    return unicodedata.normalize("NFKC", raw).strip()


def _code_id(raw: str, lookups: _Lookups, errors: _RowErrors, column=COL_SERVICE_AREA):
    code = _code(raw)
    if lost_leading_zero(code):
        reason = Message(LOST_ZERO_MESSAGE, {"code": code})
        errors.add(_("%(column)s: %(message)s"), column=column, message=reason)
        return None
    if not is_valid_local_government_code(code):
        errors.add(
            _("%(column)s: %(code)s is not a valid 6-digit local government code."),
            column=column,
            code=code,
        )
        return None
    municipality_id = lookups.municipality_ids.get(code)
    if municipality_id is None:
        errors.add(
            _("%(column)s: no municipality has the code %(code)s."), column=column, code=code
        )
    return municipality_id


def _municipality(cell, column, lookups, errors) -> int | None:
    if not cell[column]:
        return None
    return _code_id(cell[column], lookups, errors, column=column)


def _function(value: str, lookups: _Lookups, errors: _RowErrors) -> str | None:
    function = lookups.function_values.get(_normalise_choice(value))
    if function is None:
        errors.add(
            _("%(column)s: %(value)s is not one of the functions."),
            column=COL_FUNCTIONS,
            value=value,
        )
    return function


def _flag(cell, column, errors) -> bool:
    value = unicodedata.normalize("NFKC", cell[column])
    if value in {"", "1"}:
        return True
    if value == "0":
        return False
    errors.add(_("%(column)s: write 1 (yes) or 0 (no), not %(value)s."), column=column, value=value)
    return True


def _date(cell, column, errors) -> datetime.date | None:
    value = unicodedata.normalize("NFKC", cell[column])
    if not value:
        return None
    # Excel rewrites 2025-04-01 as 2025/4/1 when it saves; take both.
    match = _DATE.match(value)
    try:
        if match is None:
            raise ValueError(value)
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        errors.add(
            _("%(column)s: %(value)s is not a date; write it like 2025-04-01."),
            column=column,
            value=value,
        )
        return None


def _target_agency(cell, name, municipality_id, lookups: _Lookups, errors) -> Agency | None:
    """The existing agency the row names, or a new one."""
    raw_id = cell[COL_ID]
    if raw_id:
        try:
            public_id = str(uuid.UUID(raw_id))
        except ValueError:
            errors.add(_("%(column)s: %(value)s is not an agency ID."), column=COL_ID, value=raw_id)
            return None
        agency = lookups.agencies_by_public_id.get(public_id)
        if agency is None:
            errors.add(
                _(
                    "%(column)s: no agency has the ID %(value)s. "
                    "Leave it empty to add a new agency."
                ),
                column=COL_ID,
                value=raw_id,
            )
        return agency
    if not name:
        return Agency()  # full_clean reports the missing name
    matches = lookups.agencies_by_key.get((municipality_id, name), [])
    if len(matches) > 1:
        errors.add(
            _("Several agencies are called %(name)s in this municipality; give the %(column)s."),
            name=name,
            column=COL_ID,
        )
        return None
    return matches[0] if matches else Agency()


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
    return _csv_text(AGENCY_HEADER, rows)
