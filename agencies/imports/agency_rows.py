"""Reading and checking the rows of an agency CSV: the header, each cell, and which agency a row
names; every problem on a row is collected, not only the first."""

import datetime
import re
import unicodedata
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.japanese import search_key, to_katakana

from ..codes import is_valid_local_government_code
from ..models import (
    Agency,
    AgencyFunction,
    AgencyFunctionEntry,
    AgencyKind,
    Municipality,
    Operation,
)
from ..municipality_list import (
    LOST_ZERO_MESSAGE,
    Message,
    RowError,
    lost_leading_zero,
    normalise_header,
)
from .agency_format import (
    _AGENCY_FIELDS,
    _COLUMN_OF_FIELD,
    AGENCY_HEADER,
    COL_ACTIVE_FROM,
    COL_ACTIVE_UNTIL,
    COL_ADDRESS,
    COL_CONTRACTOR,
    COL_EMAIL,
    COL_FUNCTIONS,
    COL_ID,
    COL_KANA,
    COL_KIND,
    COL_MUNICIPALITY,
    COL_NAME,
    COL_OPENING_HOURS,
    COL_OPERATION,
    COL_PHONE,
    COL_POSTAL_CODE,
    COL_PUBLIC_NOTE,
    COL_RECEIVES_REFERRALS,
    COL_SERVICE_AREA,
    FUNCTION_NAMES,
    KIND_NAMES,
    OPERATION_NAMES,
)
from .common import _read_cell

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
    cell = {column: _read_cell(cells[index]) for column, index in columns.items()}

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
