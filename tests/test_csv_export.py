"""Every CSV export goes through core.csv_export, which keeps a cell from running as a
spreadsheet formula (CSV/formula injection, OWASP): a text cell that starts with =, +, -, @, a
tab or a carriage return is written with a ``'`` first, unless it is a plain number.

The writer on its own first; then each export (agencies and municipalities as the system admin,
the 29条/30条 records as the caseworker and the supervisor who download them), seeded through
the services and downloaded through the real views; then the round trip: an exported agency
or municipality imported again is unchanged, and its export does not grow quotes.
"""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from agencies.imports import AGENCY_HEADER, agencies_export, agencies_import
from agencies.imports import municipalities_import as import_municipalities
from agencies.models import Agency, Municipality
from agencies.permissions import Viewer
from agencies.services import agency_update
from cases.services import client_create
from core.csv_export import csv_lines, csv_text, neutralise, unneutralise
from referrals.models import ProvisionRecord
from referrals.services import referral_accept
from tests.conftest import login_as, make_user, send_referral, viewer_for

DANGEROUS = ["=", "+", "-", "@", "\t", "\r"]


def rows_of(body: bytes) -> list[list[str]]:
    """The file as a spreadsheet would split it (the BOM dropped)."""
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


# --- The writer --------------------------------------------------------------------------------


@pytest.mark.parametrize("first", DANGEROUS)
def test_a_text_cell_that_starts_like_a_formula_is_written_with_a_quote(first):
    value = f'{first}HYPERLINK("http://x")'

    text = csv_text(["h"], [[value]])

    assert neutralise(value) == f"'{value}"
    assert rows_of(text.encode())[1] == [f"'{value}"]


@pytest.mark.parametrize("first", DANGEROUS)
def test_a_header_that_starts_like_a_formula_is_quoted_too(first):
    assert rows_of(csv_text([f"{first}1+1"], []).encode()) == [[f"'{first}1+1"]]


@pytest.mark.parametrize("value", ["-3", "+81", "-0.5", "+12.25", "42", "0", "-0"])
def test_a_plain_number_is_written_as_it_is(value):
    assert neutralise(value) == value
    assert csv_text(["h"], [[value]]) == f"h\r\n{value}\r\n"


@pytest.mark.parametrize(
    "value",
    ["+81-3-1234-5678", "-1e5", "-.5", "-3.", "--3", "-3 ", "- 3", "-", "+", "=1", "-３", "+1市"],
)
def test_what_only_looks_like_a_number_is_quoted(value):
    assert neutralise(value) == f"'{value}"


@pytest.mark.parametrize("value", ["A=B", "a-b", "03-1234-5678", "info@example.jp", "'quoted", " "])
def test_text_with_those_characters_later_on_is_left_alone(value):
    assert neutralise(value) == value


def test_cells_that_are_not_text_are_written_as_before():
    rows = [[-3, datetime.date(2025, 4, 1), None, "", Decimal("-1.5"), Decimal("-1E+5")]]

    assert csv_text(["a", "b", "c", "d", "e", "f"], rows) == (
        "a,b,c,d,e,f\r\n-3,2025-04-01,,,-1.5,-1E+5\r\n"
    )


def test_a_quoted_cell_with_a_line_break_stays_one_cell():
    text = csv_text(["h", "i"], [["\r=1+1", "\t@SUM(1)"], ["x", "y"]])

    assert rows_of(text.encode()) == [["h", "i"], ["'\r=1+1", "'\t@SUM(1)"], ["x", "y"]]


def test_the_lines_are_written_as_the_rows_are_read():
    read = []

    def rows():
        for n in range(3):
            read.append(n)
            yield [f"={n}"]

    lines = csv_lines(["h"], rows())

    assert next(lines) == "h\r\n"
    assert read == []
    assert next(lines) == "'=0\r\n"
    assert read == [0]
    assert list(lines) == ["'=1\r\n", "'=2\r\n"]


@pytest.mark.parametrize("first", DANGEROUS)
def test_reading_back_takes_off_the_quote_the_writer_put_in(first):
    value = f"{first}SUM(1+1)"

    assert unneutralise(neutralise(value)) == value
    assert unneutralise(f"'{first}") == first


@pytest.mark.parametrize("value", ["'quoted", "'", "''=1", "", "-3", "abc", "'3"])
def test_reading_back_leaves_any_other_cell_as_it_is(value):
    assert unneutralise(value) == value


# --- The agency export -------------------------------------------------------------------------

# One field of the agency for each character that starts a formula.
AGENCY_CELLS = {
    "=": ("name", "名称", '=HYPERLINK("http://x","ここをクリック")'),
    "+": ("phone", "電話", "+81-26-000-0000"),
    "-": ("address", "住所", "-2+3"),
    "@": ("contractor_name", "受託法人名", "@SUM(1+1)"),
    "\t": ("opening_hours", "開所時間", "\t=1+1"),
    "\r": ("public_note", "利用者向け案内", "\r=1+1"),
}


def roster_update(roster_admin, agency: Agency, **fields) -> Agency:
    """What the agency's own roster admin may change of it."""
    return agency_update(
        viewer=viewer_for(roster_admin),
        agency=agency,
        fields=fields,
        service_area=list(agency.service_area.all()),
        functions=list(agency.function_entries.values_list("function", flat=True)),
    )


def agency_row(body: bytes, agency: Agency) -> dict[str, str]:
    header, *rows = rows_of(body)
    assert header == list(AGENCY_HEADER)
    return next(
        dict(zip(header, row, strict=True)) for row in rows if row[0] == str(agency.public_id)
    )


def test_the_agency_columns_of_these_tests_are_in_the_file():
    assert {column for _field, column, _value in AGENCY_CELLS.values()} <= set(AGENCY_HEADER)


@pytest.mark.parametrize("first", DANGEROUS)
def test_the_agency_csv_quotes_what_a_roster_admin_typed_like_a_formula(
    client, sysadmin, kato, station_a, first
):
    field, column, value = AGENCY_CELLS[first]
    roster_update(kato, station_a, **{field: value})
    client.force_login(sysadmin)

    response = client.get(reverse("agencies:system_export_agencies"))

    assert response.status_code == 200
    assert agency_row(response.content, station_a)[column] == f"'{value}"


def test_the_agency_csv_leaves_numbers_and_dates_as_they_are(client, sysadmin, kato, station_a):
    roster_update(
        kato,
        station_a,
        opening_hours="-3",
        public_note="+12.5",
        active_from=datetime.date(2025, 4, 1),
    )
    client.force_login(sysadmin)

    row = agency_row(client.get(reverse("agencies:system_export_agencies")).content, station_a)

    assert row["開所時間"] == "-3"
    assert row["利用者向け案内"] == "+12.5"
    assert row["開始日"] == "2025-04-01"
    assert row["つなぎ受付"] == "1"


def agency_state() -> list[tuple]:
    return list(
        Agency.objects.order_by("pk").values_list(
            "name", "phone", "address", "contractor_name", "opening_hours", "public_note"
        )
    )


def test_an_exported_agency_imports_again_unchanged_and_exports_the_same(
    client, sysadmin, kato, station_a, jiritsu_b
):
    roster_update(kato, station_a, **{field: value for field, _, value in AGENCY_CELLS.values()})
    client.force_login(sysadmin)
    before = agency_state()
    exported = client.get(reverse("agencies:system_export_agencies")).content

    report = agencies_import(actor=sysadmin, data=exported)

    assert report.ok, report.errors
    assert (report.created, report.updated) == (0, 0)
    assert agency_state() == before
    station_a.refresh_from_db()
    assert station_a.name == AGENCY_CELLS["="][2]
    assert client.get(reverse("agencies:system_export_agencies")).content == exported


def test_an_import_takes_off_only_the_quote_before_a_formula_character(db, station_a):
    exported = agencies_export()
    header, *rows = rows_of(exported.encode())
    name, note = header.index("名称"), header.index("利用者向け案内")
    station = next(row for row in rows if row[0] == str(station_a.public_id))
    station[name], station[note] = "'@本部", "'ただの引用"

    report = agencies_import(actor=None, data=csv_text(header, [station]).encode())

    assert report.ok, report.errors
    station_a.refresh_from_db()
    assert (station_a.name, station_a.public_note) == ("@本部", "'ただの引用")


# --- The municipality export -------------------------------------------------------------------

# Names as the ministry's list could carry them (they must end in 市, 町 or 村).
MUNICIPALITY_NAMES = {
    "012025": ("name", '=HYPERLINK("http://x")市'),  # 函館市
    "012033": ("name", "@SUM(1+1)市"),  # 小樽市
    "012041": ("name", "+1市"),  # 旭川市
    "012050": ("name_kana", "-ﾑﾛﾗﾝｼ"),  # 室蘭市
}
MUNICIPALITY_COLUMNS = {"name": 2, "name_kana": 4}


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


def bundled_list_with_formulas() -> bytes:
    from agencies.municipality_list import BUNDLED_FILE

    lines = []
    for cells in csv.reader(io.StringIO(BUNDLED_FILE.read_text(encoding="utf-8"), newline="")):
        if cells and cells[0] in MUNICIPALITY_NAMES:
            field, value = MUNICIPALITY_NAMES[cells[0]]
            cells[MUNICIPALITY_COLUMNS[field]] = value
        lines.append(",".join(_quoted(cell) for cell in cells))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def municipality_state() -> list[tuple]:
    return list(
        Municipality.objects.order_by("code").values_list(
            "code", "name", "name_kana", "kind", "prefecture__code"
        )
    )


def test_the_municipality_csv_quotes_names_that_start_like_a_formula(client, sysadmin):
    report = import_municipalities(actor=None, data=bundled_list_with_formulas())
    assert report.ok, report.errors
    assert Municipality.objects.get(code="012025").name == MUNICIPALITY_NAMES["012025"][1]
    client.force_login(sysadmin)

    response = client.get(reverse("agencies:system_export_municipalities"))

    assert response.status_code == 200
    rows = {row[0]: row for row in rows_of(response.content)}
    for code, (field, value) in MUNICIPALITY_NAMES.items():
        assert rows[code][MUNICIPALITY_COLUMNS[field]] == f"'{value}"
    assert rows["012025"][1] == "北海道"
    assert rows["012025"][0] == "012025"


def test_an_exported_municipality_list_imports_again_unchanged(client, sysadmin):
    import_municipalities(actor=None, data=bundled_list_with_formulas())
    before = municipality_state()
    client.force_login(sysadmin)
    exported = client.get(reverse("agencies:system_export_municipalities")).content

    report = import_municipalities(actor=sysadmin, data=exported)

    assert report.ok, report.errors
    assert (report.created, report.updated) == (0, 0)
    assert municipality_state() == before
    assert Municipality.objects.get(code="012033").name == "@SUM(1+1)市"
    assert client.get(reverse("agencies:system_export_municipalities")).content == exported


# --- The 29条/30条 records -------------------------------------------------------------------

RECORD_COLUMNS = {"person": 2, "other_agency": 4, "how_obtained": 6, "recorded_by": 7}


def caseworker_at(agency: Agency, username: str, full_name: str):
    from agencies.models import Role
    from agencies.services import membership_ensure

    user = make_user(username, full_name)
    membership_ensure(actor=None, user=user, agency=agency, role=Role.CASEWORKER)
    return user


def person(worker, full_name: str):
    return client_create(
        viewer=viewer_for(worker),
        fields={
            "full_name": full_name,
            "full_name_kana": "テスト タロウ",
            "birth_date": datetime.date(1980, 1, 1),
        },
    )


def records_csv(client, user) -> list[list[str]]:
    login_as(client, user)
    response = client.get(reverse("referrals:records_csv"))
    assert response.status_code == 200
    return rows_of(response.getvalue())


# (character, what is seeded, where it shows): the client's name, the other agency's name and
# the worker's name as the sender's provision record shows them.
PROVISION_CELLS = [
    ("@", "person", "@SUM(1+1)"),
    ("=", "other_agency", '=HYPERLINK("http://x")'),
    ("-", "recorded_by", "-2+3"),
    ("+", "person", "+cmd|' /C calc'!A0"),
    ("\t", "other_agency", "\t=1+1"),
    ("\r", "recorded_by", "\r=1+1"),
]


@pytest.mark.parametrize(("first", "where", "value"), PROVISION_CELLS)
def test_the_provision_records_csv_quotes_what_starts_like_a_formula(
    client, sysadmin, station_a, jiritsu_b, first, where, value
):
    assert value.startswith(first)
    worker = caseworker_at(station_a, "worker", value if where == "recorded_by" else "田中 一郎")
    if where == "other_agency":
        agency_update(
            viewer=Viewer(user=sysadmin, membership=None),
            agency=jiritsu_b,
            fields={"name": value},
            service_area=[],
            functions=[],
        )
    someone = person(worker, value if where == "person" else "山本 太郎")
    send_referral(worker, someone, jiritsu_b)

    _header, record = records_csv(client, worker)

    assert record[RECORD_COLUMNS[where]] == f"'{value}"
    provided_at = timezone.localtime(ProvisionRecord.objects.get().provided_at)
    assert record[1] == f"{provided_at:%Y-%m-%d %H:%M}"  # the date and time, as it was


@pytest.mark.parametrize("first", ["=", "@", "-"])
def test_the_confirmation_records_csv_quotes_the_sender_and_the_person(
    client, sysadmin, suzuki, station_a, jiritsu_b, first
):
    name = {"=": '=HYPERLINK("http://x")', "@": "@SUM(1+1)", "-": "-2+3"}[first]
    agency_update(
        viewer=Viewer(user=sysadmin, membership=None),
        agency=station_a,
        fields={"name": name},
        service_area=[],
        functions=[],
    )
    worker = caseworker_at(station_a, "worker", "田中 一郎")
    referral = send_referral(worker, person(worker, f"{first}本人"), jiritsu_b)
    referral_accept(viewer=viewer_for(suzuki), referral=referral)

    _header, record = records_csv(client, suzuki)

    assert record[RECORD_COLUMNS["other_agency"]] == f"'{name}"
    assert record[RECORD_COLUMNS["person"]] == f"'{first}本人"
    # The ja text starts with the sending agency's name.
    assert record[RECORD_COLUMNS["how_obtained"]].startswith(f"'{name}")
    assert record[RECORD_COLUMNS["recorded_by"]] == "鈴木 花子"


def test_the_records_csv_leaves_a_plain_number_and_the_date_as_they_are(
    client, station_a, jiritsu_b
):
    worker = caseworker_at(station_a, "worker", "-3")
    send_referral(worker, person(worker, "+81"), jiritsu_b)

    _header, record = records_csv(client, worker)

    assert record[RECORD_COLUMNS["recorded_by"]] == "-3"
    assert record[RECORD_COLUMNS["person"]] == "+81"
    provided_at = timezone.localtime(ProvisionRecord.objects.get().provided_at)
    assert record[1] == f"{provided_at:%Y-%m-%d %H:%M}"
