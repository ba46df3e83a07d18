"""Importing and exporting the municipality list and the agency CSV.

The test database already holds the bundled municipality list: migration 0002 loads it.
"""

import csv
import datetime
import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from agencies.imports import (
    AGENCY_HEADER,
    agencies_export,
    agencies_import,
    municipalities_export,
    municipalities_import,
)
from agencies.models import (
    Agency,
    AgencyFunction,
    AgencyKind,
    Municipality,
    MunicipalityKind,
    Operation,
)
from agencies.municipality_list import parse_municipality_list
from agencies.permissions import Viewer
from agencies.services import municipality_correct
from audit.models import AuditEntry
from core.japanese import search_key

ROOT = Path(__file__).resolve().parent.parent
UTF8_FILE = ROOT / "agencies" / "data" / "municipalities.csv"
CP932_FILE = Path(__file__).resolve().parent / "data" / "municipalities-mic-layout-cp932.csv"
HEADER_LINE = (
    "団体コード,都道府県名（漢字）,市区町村名（漢字）,都道府県名（カナ）,市区町村名（カナ）"
)


def utf8_lines() -> list[str]:
    return UTF8_FILE.read_text(encoding="utf-8").splitlines()


def as_file(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def municipality_state() -> list[tuple]:
    """Everything a system admin sees of each municipality."""
    return list(
        Municipality.objects.order_by("code").values_list(
            "code",
            "name",
            "name_kana",
            "kind",
            "has_welfare_office",
            "kind_is_manual",
            "welfare_office_is_manual",
            "prefecture__code",
            "search_key",
        )
    )


@pytest.fixture(autouse=True)
def _english():
    # Reasons are checked by their English msgids; the commands and pages render them in the
    # reader's language (Japanese by default), which these tests check by line and value only.
    with translation.override("en"):
        yield


@pytest.fixture
def no_municipalities(db):
    Municipality.objects.filter(prefecture__isnull=False).delete()
    Municipality.objects.all().delete()


@pytest.fixture
def system(sysadmin):
    return Viewer(user=sysadmin, membership=None)


# --- The municipality list ---------------------------------------------------------------------


def test_three_bad_rows_write_nothing_and_each_is_reported_with_its_line(no_municipalities):
    lines = utf8_lines()
    assert lines[3] == "012025,北海道,函館市,ﾎｯｶｲﾄﾞｳ,ﾊｺﾀﾞﾃｼ"  # file line 4
    lines[3] = "012026,北海道,函館市,ﾎｯｶｲﾄﾞｳ,ﾊｺﾀﾞﾃｼ"  # wrong check digit
    code, prefecture, _name, prefecture_kana, kana = lines[99].split(",")  # file line 100
    lines[99] = ",".join([code, prefecture, "", prefecture_kana, kana])  # name missing
    assert lines[2].startswith("011002,北海道,札幌市")  # file line 3
    lines.append(lines[2])  # 札幌市 again, on line 1790

    report = municipalities_import(actor=None, data=as_file(lines))

    assert not report.ok
    assert [error.line for error in report.errors] == [4, 100, 1790]
    reasons = [error.message for error in report.errors]
    assert "012026" in reasons[0]
    assert "check digit" in reasons[0]
    assert "name is missing" in reasons[1]
    assert "011002" in reasons[2]
    assert "line 3" in reasons[2]
    assert "3 rows are bad; nothing was imported." in report.summary()
    assert Municipality.objects.count() == 0
    assert not AuditEntry.objects.filter(action="municipality.imported").exists()


def test_a_bad_file_changes_nothing_in_a_filled_table(db):
    before = municipality_state()
    lines = utf8_lines()
    lines[2] = lines[2].replace("ｻｯﾎﾟﾛｼ", "ｻｯﾎﾟﾛ")  # a change that alone would be written...
    lines[5] = "01203,北海道,小樽市,ﾎｯｶｲﾄﾞｳ,ｵﾀﾙｼ"  # ...but a bad code elsewhere

    report = municipalities_import(actor=None, data=as_file(lines))

    assert [error.line for error in report.errors] == [6]
    assert municipality_state() == before


def test_the_clean_file_imports_every_municipality(no_municipalities, sysadmin):
    report = municipalities_import(actor=sysadmin, data=UTF8_FILE.read_bytes())

    assert report.ok
    assert (report.created, report.updated, report.unchanged) == (1788, 0, 0)
    assert Municipality.objects.filter(kind=MunicipalityKind.PREFECTURE).count() == 47
    assert Municipality.objects.filter(kind=MunicipalityKind.DESIGNATED_CITY).count() == 20
    assert Municipality.objects.filter(kind=MunicipalityKind.CORE_CITY).count() == 62
    assert Municipality.objects.filter(kind=MunicipalityKind.SPECIAL_WARD).count() == 23

    sapporo = Municipality.objects.get(code="011002")
    assert (sapporo.name, sapporo.name_kana) == ("札幌市", "サッポロシ")
    assert sapporo.kind == MunicipalityKind.DESIGNATED_CITY
    assert sapporo.prefecture.name == "北海道"
    assert str(sapporo) == "北海道札幌市"
    assert Municipality.objects.get(code="012025").kind == MunicipalityKind.CORE_CITY  # 函館市
    chiyoda = Municipality.objects.get(code="131016")
    assert (chiyoda.name, chiyoda.kind) == ("千代田区", MunicipalityKind.SPECIAL_WARD)
    assert chiyoda.has_welfare_office
    hokkaido = Municipality.objects.get(code="010006")
    assert (hokkaido.name, hokkaido.name_kana, hokkaido.prefecture) == (
        "北海道",
        "ホッカイドウ",
        None,
    )
    assert hokkaido.has_welfare_office
    yonaguni = Municipality.objects.get(code="473821")
    assert (yonaguni.name, yonaguni.kind) == ("与那国町", MunicipalityKind.TOWN)
    assert not yonaguni.has_welfare_office
    # Found by any spelling of the reading.
    assert Municipality.objects.filter(search_key__contains=search_key("さっぽろ")).get() == sapporo

    entry = AuditEntry.objects.get(action="municipality.imported")
    assert entry.actor == sysadmin
    assert entry.changes["created"] == [None, 1788]


def test_the_bundled_rows_from_the_migration_equal_a_fresh_import(db):
    from_migration = municipality_state()
    assert len(from_migration) == 1788
    Municipality.objects.filter(prefecture__isnull=False).delete()
    Municipality.objects.all().delete()

    municipalities_import(actor=None, data=UTF8_FILE.read_bytes())

    assert municipality_state() == from_migration


def test_importing_the_same_file_again_changes_nothing(db):
    # The migration loaded this very file.
    stamps = dict(Municipality.objects.values_list("code", "updated_at"))

    report = municipalities_import(actor=None, data=UTF8_FILE.read_bytes())

    assert (report.created, report.updated, report.unchanged) == (0, 0, 1788)
    assert dict(Municipality.objects.values_list("code", "updated_at")) == stamps


def test_the_shift_jis_file_imports_to_the_same_state_as_its_utf8_twin(no_municipalities):
    municipalities_import(actor=None, data=UTF8_FILE.read_bytes())
    from_utf8 = municipality_state()
    Municipality.objects.filter(prefecture__isnull=False).delete()
    Municipality.objects.all().delete()

    report = municipalities_import(actor=None, data=CP932_FILE.read_bytes())

    assert report.created == 1788
    assert municipality_state() == from_utf8


def test_utf8_with_a_bom_imports_as_without(db):
    report = municipalities_import(actor=None, data=b"\xef\xbb\xbf" + UTF8_FILE.read_bytes())
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1788)


def test_a_manual_correction_survives_reimport(db, system):
    hakodate = Municipality.objects.get(code="012025")
    municipality_correct(
        viewer=system, municipality=hakodate, kind=MunicipalityKind.CITY, has_welfare_office=True
    )
    # A town that set up its own welfare office.
    town = Municipality.objects.get(code="473821")
    municipality_correct(
        viewer=system, municipality=town, kind=MunicipalityKind.TOWN, has_welfare_office=True
    )
    # A name drifted from the ministry's list: the import puts it back.
    Municipality.objects.filter(code="012033").update(name="小樽")

    report = municipalities_import(actor=None, data=UTF8_FILE.read_bytes())

    assert (report.created, report.updated) == (0, 1)
    hakodate.refresh_from_db()
    town.refresh_from_db()
    assert (hakodate.kind, hakodate.kind_is_manual) == (MunicipalityKind.CITY, True)
    assert (town.has_welfare_office, town.welfare_office_is_manual) == (True, True)
    assert Municipality.objects.get(code="012033").name == "小樽市"


def test_the_import_follows_the_file_where_nothing_was_corrected(db):
    Municipality.objects.filter(code="012025").update(
        kind=MunicipalityKind.CITY, has_welfare_office=False, name_kana="ハコダテ"
    )

    report = municipalities_import(actor=None, data=UTF8_FILE.read_bytes())

    assert report.updated == 1
    hakodate = Municipality.objects.get(code="012025")
    assert (hakodate.kind, hakodate.has_welfare_office) == (MunicipalityKind.CORE_CITY, True)
    assert hakodate.name_kana == "ハコダテシ"


def test_a_new_municipality_in_the_file_is_created(db):
    Municipality.objects.filter(code="473821").delete()

    report = municipalities_import(actor=None, data=UTF8_FILE.read_bytes())

    assert (report.created, report.updated) == (1, 0)
    assert Municipality.objects.get(code="473821").prefecture.code == "470007"


def test_export_writes_the_ministry_file_back_and_reimports_to_no_change(db):
    exported = municipalities_export()

    assert exported.splitlines() == utf8_lines()
    report = municipalities_import(actor=None, data=exported.encode("utf-8"))
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1788)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(
            ["団体コード,都道府県名,市区町村名", "010006,北海道,"], [(1, "header")], id="header"
        ),
        pytest.param([HEADER_LINE, "010006,北海道,,ﾎｯｶｲﾄﾞｳ"], [(2, "4 columns")], id="column count"),
        pytest.param(
            [HEADER_LINE, "011002,北海道,札幌市,ﾎｯｶｲﾄﾞｳ,ｻｯﾎﾟﾛｼ"],
            [(2, "no prefecture row (code 010006)")],
            id="prefecture row missing",
        ),
        pytest.param(
            [HEADER_LINE, "010006,,,ﾎｯｶｲﾄﾞｳ,"], [(2, "prefecture name is missing")], id="no pref"
        ),
        pytest.param(
            [HEADER_LINE, "010006,北海道,,ﾎｯｶｲﾄﾞｳ,", "011011,北海道,札幌市中央区,ﾎｯｶｲﾄﾞｳ,"],
            [(3, "ward of a designated city")],
            id="designated-city ward",
        ),
        pytest.param(
            [HEADER_LINE, "010006,北海道,,ﾎｯｶｲﾄﾞｳ,", "011002,北海道県,札幌市,ﾎｯｶｲﾄﾞｳ,"],
            [(3, "differs from the prefecture row on line 2")],
            id="prefecture name mismatch",
        ),
        pytest.param(
            [HEADER_LINE, "010006,北海道,,ﾎｯｶｲﾄﾞｳ,", ",,,,", "１１００２,北海道,札幌市,,"],
            [(4, "not 6 digits")],
            id="full-width code, blank row skipped",
        ),
        pytest.param(
            [HEADER_LINE, "10006,北海道,,ﾎｯｶｲﾄﾞｳ,", "11002,北海道,札幌市,ﾎｯｶｲﾄﾞｳ,ｻｯﾎﾟﾛｼ"],
            [(2, "Write it as 010006"), (3, "Write it as 011002")],
            id="leading zero lost in Excel",
        ),
    ],
)
def test_each_kind_of_bad_row_is_reported_on_its_line(lines, expected):
    result = parse_municipality_list(as_file(lines))

    assert [error.line for error in result.errors] == [line for line, _text in expected]
    for error, (_line, text) in zip(result.errors, expected, strict=True):
        assert text in error.message
    assert result.rows == []


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", "empty"),
        ("団体コード".encode("utf-16"), "UTF-16"),
        (b"\x81\x00abc", "UTF-16"),
        (b"\x85\x40\xff\xfe", "neither UTF-8 nor Shift_JIS"),
        (b'010006,"' + b"x" * 200_000 + b'"\n', "cannot be read as CSV"),
    ],
)
def test_files_in_another_encoding_are_refused_with_a_clear_message(data, text):
    result = parse_municipality_list(data)
    assert len(result.errors) == 1
    assert text in result.errors[0].message


# --- The agency CSV ----------------------------------------------------------------------------

NAGANO_CENTER = {
    "名称": "長野市生活就労支援センター",
    "名称カナ": "ながのしせいかつしゅうろうしえんせんたー",
    "種別": "自立相談支援機関",
    "実施主体コード": "202011",
    "運営形態": "委託",
    "受託法人名": "社会福祉法人長野市社会福祉協議会",
    "提供地域コード": "202011",
    "機能": "自立相談支援事業 就労準備支援事業;家計改善支援事業",
    "郵便番号": "380-0813",
    "住所": "長野県長野市緑町1714-5",
    "電話": "026-000-0000",
    "メール": "soudan@example.jp",
    "開所時間": "平日 8:30-17:15",
    "利用者向け案内": "長野駅から徒歩10分。\n訪問での相談もできます。",
    "つなぎ受付": "1",
    "開始日": "2015/4/1",
}
PREFECTURE_CENTER = {
    "名称": "長野県ひきこもり支援センター",
    "名称カナ": "ナガノケンヒキコモリシエンセンター",
    "種別": "hikikomori_center",
    "実施主体コード": "200000",
    "運営形態": "直営",
    "提供地域コード": "202037 202045",
    "機能": "consultation;place_to_be 市町村への後方支援",
    "つなぎ受付": "0",
    "開始日": "2024-04-01",
    "終了日": "2030-03-31",
}
FAMILY_GROUP = {"名称": "ひきこもり家族会みどり", "種別": "家族会・当事者会"}


def agency_csv(*rows: dict, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AGENCY_HEADER)
    for row in rows:
        writer.writerow([row.get(column, "") for column in AGENCY_HEADER])
    return buffer.getvalue().encode(encoding)


def agency_state() -> list[tuple]:
    """Every agency as the directory shows it, with its service area and functions."""
    return [
        (
            agency.public_id,
            agency.name,
            agency.name_kana,
            agency.kind,
            agency.municipality_id,
            agency.operation,
            agency.contractor_name,
            agency.postal_code,
            agency.address,
            agency.phone,
            agency.email,
            agency.opening_hours,
            agency.public_note,
            agency.receives_referrals,
            agency.active_from,
            agency.active_until,
            agency.search_key,
            sorted(m.code for m in agency.service_area.all()),
            sorted(entry.function for entry in agency.function_entries.all()),
            agency.updated_at,
        )
        for agency in Agency.objects.prefetch_related("service_area", "function_entries").order_by(
            "pk"
        )
    ]


def test_the_agency_csv_creates_each_agency_as_listed(db, sysadmin):
    report = agencies_import(
        actor=sysadmin, data=agency_csv(NAGANO_CENTER, PREFECTURE_CENTER, FAMILY_GROUP)
    )

    assert report.ok, [str(error) for error in report.errors]
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    center = Agency.objects.get(name="長野市生活就労支援センター")
    assert center.name_kana == "ナガノシセイカツシュウロウシエンセンター"
    assert center.kind == AgencyKind.SELF_RELIANCE
    assert center.municipality.code == "202011"
    assert (center.operation, center.contractor_name) == (
        Operation.CONTRACTED,
        "社会福祉法人長野市社会福祉協議会",
    )
    assert [m.code for m in center.service_area.all()] == ["202011"]
    assert set(center.function_entries.values_list("function", flat=True)) == {
        AgencyFunction.SELF_RELIANCE_CONSULTATION,
        AgencyFunction.WORK_PREPARATION,
        AgencyFunction.HOUSEHOLD_FINANCE,
    }
    assert center.public_note == "長野駅から徒歩10分。\n訪問での相談もできます。"
    assert center.active_from == datetime.date(2015, 4, 1)
    assert center.active_until is None
    assert center.receives_referrals
    assert center.search_key == search_key(center.name, center.name_kana)

    prefecture_center = Agency.objects.get(name="長野県ひきこもり支援センター")
    assert prefecture_center.kind == AgencyKind.HIKIKOMORI_CENTER
    assert prefecture_center.operation == Operation.DIRECT
    assert sorted(m.name for m in prefecture_center.service_area.all()) == ["上田市", "岡谷市"]
    assert set(prefecture_center.function_entries.values_list("function", flat=True)) == {
        AgencyFunction.CONSULTATION,
        AgencyFunction.PLACE_TO_BE,
        AgencyFunction.MUNICIPAL_BACKUP,
    }
    assert not prefecture_center.receives_referrals
    assert prefecture_center.active_until == datetime.date(2030, 3, 31)

    family = Agency.objects.get(name="ひきこもり家族会みどり")
    assert family.municipality is None
    assert family.active_from == timezone.localdate()  # the model's default

    entry = AuditEntry.objects.get(action="agency.imported")
    assert entry.actor == sysadmin
    assert entry.changes["created"] == [None, 3]


def test_importing_the_agency_csv_again_changes_nothing(db):
    data = agency_csv(NAGANO_CENTER, PREFECTURE_CENTER, FAMILY_GROUP)
    agencies_import(actor=None, data=data)
    before = agency_state()

    report = agencies_import(actor=None, data=data)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert agency_state() == before


def test_a_row_without_id_updates_the_agency_of_that_name_in_that_municipality(db):
    agencies_import(actor=None, data=agency_csv(NAGANO_CENTER, PREFECTURE_CENTER))
    changed = {
        **NAGANO_CENTER,
        "電話": "026-111-1111",
        "提供地域コード": "202011;202029",
        "機能": "自立相談支援事業",
        "利用者向け案内": "",
    }

    report = agencies_import(actor=None, data=agency_csv(changed, PREFECTURE_CENTER))

    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    center = Agency.objects.get(name="長野市生活就労支援センター")
    assert center.phone == "026-111-1111"
    assert center.public_note == ""
    assert sorted(m.code for m in center.service_area.all()) == ["202011", "202029"]
    assert list(center.function_entries.values_list("function", flat=True)) == [
        AgencyFunction.SELF_RELIANCE_CONSULTATION
    ]
    assert Agency.objects.count() == 2


def test_a_row_with_the_agency_id_renames_that_agency(db):
    agencies_import(actor=None, data=agency_csv(NAGANO_CENTER))
    center = Agency.objects.get()
    new_name = "ながの生活就労支援センター"
    renamed = {**NAGANO_CENTER, "機関ID": str(center.public_id), "名称": new_name}

    report = agencies_import(actor=None, data=agency_csv(renamed))

    assert (report.created, report.updated) == (0, 1)
    center.refresh_from_db()
    assert center.name == new_name
    assert center.search_key == search_key(new_name, center.name_kana)


def test_agencies_left_out_of_the_file_are_kept(db, station_a):
    agencies_import(actor=None, data=agency_csv(NAGANO_CENTER, PREFECTURE_CENTER))

    report = agencies_import(actor=None, data=agency_csv(PREFECTURE_CENTER))

    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    assert set(Agency.objects.values_list("name", flat=True)) == {
        station_a.name,
        "長野市生活就労支援センター",
        "長野県ひきこもり支援センター",
    }


def test_a_shift_jis_agency_csv_imports_like_utf8(db):
    report = agencies_import(
        actor=None, data=agency_csv(NAGANO_CENTER, PREFECTURE_CENTER, encoding="cp932")
    )

    assert (report.created, report.updated) == (2, 0)
    assert Agency.objects.filter(name="長野市生活就労支援センター").exists()


def test_bad_agency_rows_write_nothing_and_each_is_reported_on_its_file_line(db):
    before = agency_state()
    bad_rows = [
        {**NAGANO_CENTER, "名称": "A", "種別": "ひきこもり相談所"},
        {**NAGANO_CENTER, "名称": "B", "実施主体コード": "202012"},
        {**NAGANO_CENTER, "名称": "C", "実施主体コード": "999997"},
        {**NAGANO_CENTER, "名称": "D", "受託法人名": ""},
        {**NAGANO_CENTER, "名称": "E", "開始日": "2025-13-01"},
        {**NAGANO_CENTER, "名称": "F", "開始日": "2025-04-01", "終了日": "2025-03-31"},
        NAGANO_CENTER,
        {**NAGANO_CENTER, "名称": "G", "メール": "soudan@", "提供地域コード": "202011 999997"},
        {**NAGANO_CENTER, "名称": "H", "機関ID": "6f0e8a52-0000-4000-8000-000000000000"},
        {**NAGANO_CENTER, "名称": "I", "機能": "相談支援 占い"},
        {**NAGANO_CENTER, "名称": "J", "つなぎ受付": "はい"},
        {**NAGANO_CENTER, "名称": ""},
        {**NAGANO_CENTER, "名称": "K", "提供地域コード": "12025"},
    ]

    # NAGANO_CENTER's note spans two lines, so it fills lines 2-3 and each row after it starts
    # two lines further down: the lines are the ones a text editor shows.
    report = agencies_import(actor=None, data=agency_csv(NAGANO_CENTER, *bad_rows))

    assert not report.ok
    found = [(error.line, error.message) for error in report.errors]
    expected = [
        (4, "種別: ひきこもり相談所 is not one of the choices"),
        (6, "実施主体コード: 202012 is not a valid 6-digit local government code"),
        (8, "実施主体コード: no municipality has the code 999997"),
        (10, "受託法人名 must name the contractor"),
        (12, "開始日: 2025-13-01 is not a date"),
        (14, "終了日 (2025-03-31) is before 開始日 (2025-04-01)"),
        (16, "already appears on line 2"),
        (18, "提供地域コード: no municipality has the code 999997"),
        (18, "メール: Enter a valid email address"),
        (20, "機関ID: no agency has the ID 6f0e8a52-0000-4000-8000-000000000000"),
        (22, "機能: 占い is not one of the functions"),
        (24, "つなぎ受付: write 1 (yes) or 0 (no), not はい"),
        (26, "名称: This field cannot be blank"),
        (28, "提供地域コード: The code 12025 has 5 digits"),
    ]
    assert [line for line, _ in found] == [line for line, _ in expected]
    for (_line, message), (_expected_line, text) in zip(found, expected, strict=True):
        assert text in message
    assert agency_state() == before
    assert not AuditEntry.objects.filter(action="agency.imported").exists()


def test_an_agency_csv_with_a_wrong_header_is_refused_at_line_1(db):
    data = "名称,種別,ふりがな\nA,npo,a\n".encode()

    report = agencies_import(actor=None, data=data)

    assert {error.line for error in report.errors} == {1}
    messages = " ".join(error.message for error in report.errors)
    assert "unknown column ふりがな" in messages
    assert "missing the column 機関ID" in messages


def test_the_agency_export_reimports_to_the_same_state(db, station_a, jiritsu_b):
    agencies_import(actor=None, data=agency_csv(NAGANO_CENTER, PREFECTURE_CENTER, FAMILY_GROUP))
    before = agency_state()

    exported = agencies_export()

    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 5
    center = next(row for row in rows if row["名称"] == "長野市生活就労支援センター")
    assert center["種別"] == "自立相談支援機関"
    assert center["運営形態"] == "委託"
    assert center["機能"] == "自立相談支援事業 就労準備支援事業 家計改善支援事業"
    assert center["開始日"] == "2015-04-01"
    report = agencies_import(actor=None, data=exported.encode("utf-8"))
    assert (report.created, report.updated, report.unchanged) == (0, 0, 5)
    assert agency_state() == before


def test_an_edited_export_updates_only_the_edited_agency(db, station_a):
    agencies_import(actor=None, data=agency_csv(NAGANO_CENTER, PREFECTURE_CENTER))
    exported = agencies_export().replace("026-000-0000", "026-222-2222")

    report = agencies_import(actor=None, data=exported.encode("utf-8"))

    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    assert Agency.objects.get(name="長野市生活就労支援センター").phone == "026-222-2222"


# --- Management commands -----------------------------------------------------------------------


def test_the_import_command_lists_bad_rows_and_fails(db, tmp_path):
    lines = utf8_lines()
    lines[3] = "012026,北海道,函館市,ﾎｯｶｲﾄﾞｳ,ﾊｺﾀﾞﾃｼ"
    path = tmp_path / "list.csv"
    path.write_bytes(as_file(lines))
    before = municipality_state()
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_municipalities", str(path), stdout=out, stderr=err)

    assert re.search(r"\b4\b.*012026", err.getvalue())
    assert municipality_state() == before


def test_the_bundled_list_imports_by_command_without_changes(db):
    out = io.StringIO()

    call_command("import_municipalities", "--bundled", stdout=out)

    assert "1788" in out.getvalue()
    assert AuditEntry.objects.filter(action="municipality.imported", actor=None).count() == 1


def test_the_export_commands_write_files_that_import_to_no_change(db, tmp_path):
    agencies_import(actor=None, data=agency_csv(NAGANO_CENTER, PREFECTURE_CENTER))
    agencies_path, municipalities_path = tmp_path / "agencies.csv", tmp_path / "m.csv"

    call_command("export_agencies", "-o", str(agencies_path), "--excel")
    call_command("export_municipalities", "--output", str(municipalities_path))
    before = agency_state()
    call_command("import_agencies", str(agencies_path), stdout=io.StringIO())
    call_command("import_municipalities", str(municipalities_path), stdout=io.StringIO())

    assert agencies_path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert not municipalities_path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert agency_state() == before
    assert [entry.changes["updated"] for entry in AuditEntry.objects.order_by("pk")][-2:] == [
        [None, 0],
        [None, 0],
    ]


def test_the_export_command_writes_to_standard_output(db):
    out = io.StringIO()
    call_command("export_municipalities", stdout=out)
    assert out.getvalue().splitlines() == utf8_lines()


# --- The upload page ---------------------------------------------------------------------------


def upload(client, name: str, data: bytes, filename: str = "list.csv"):
    return client.post(
        reverse("agencies:system_import"),
        {"import": name, f"{name}-file": SimpleUploadedFile(filename, data, "text/csv")},
    )


def test_the_import_page_offers_both_uploads_and_both_downloads(client, sysadmin):
    client.force_login(sysadmin)

    response = client.get(reverse("agencies:system_import"))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="municipalities-file"' in content
    assert 'name="agencies-file"' in content
    assert reverse("agencies:system_export_municipalities") in content
    assert reverse("agencies:system_export_agencies") in content


def test_an_upload_with_bad_rows_shows_each_line_and_writes_nothing(client, sysadmin):
    client.force_login(sysadmin)
    lines = utf8_lines()
    lines[3] = "012026,北海道,函館市,ﾎｯｶｲﾄﾞｳ,ﾊｺﾀﾞﾃｼ"
    lines.append(lines[2])
    before = municipality_state()

    response = upload(client, "municipalities", as_file(lines))

    assert response.status_code == 200
    content = response.content.decode()
    assert re.search(r"<td>4</td><td>[^<]*012026", content)
    assert re.search(r"<td>1790</td><td>[^<]*011002", content)
    assert municipality_state() == before
    assert not AuditEntry.objects.filter(action="municipality.imported").exists()


def test_a_clean_agency_upload_shows_the_counts(client, sysadmin):
    client.force_login(sysadmin)

    response = upload(client, "agencies", agency_csv(NAGANO_CENTER, PREFECTURE_CENTER))

    content = response.content.decode()
    assert 'data-count="created">2<' in content
    assert 'data-count="updated">0<' in content
    assert Agency.objects.count() == 2
    assert AuditEntry.objects.get(action="agency.imported").actor == sysadmin


def test_a_file_over_10_mb_is_refused_by_the_form(client, sysadmin):
    client.force_login(sysadmin)
    big = agency_csv(NAGANO_CENTER) + b"," * (10 * 1024 * 1024)

    response = upload(client, "agencies", big)

    assert response.status_code == 200
    assert response.context["report"] is None
    assert response.context["sections"][1]["form"].errors["file"]
    assert Agency.objects.count() == 0


@pytest.mark.parametrize("name", ["municipalities", "agencies"])
def test_downloads_are_utf8_csv_attachments_that_reimport_to_no_change(client, sysadmin, name):
    agencies_import(actor=None, data=agency_csv(NAGANO_CENTER))
    client.force_login(sysadmin)

    response = client.get(reverse(f"agencies:system_export_{name}"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert re.fullmatch(rf'attachment; filename="{name}-\d{{8}}\.csv"', disposition)
    service = {"municipalities": municipalities_import, "agencies": agencies_import}[name]
    report = service(actor=None, data=response.content)
    assert (report.created, report.updated) == (0, 0)


@pytest.mark.parametrize(
    "url_name",
    ["system_import", "system_export_municipalities", "system_export_agencies"],
)
def test_anyone_but_a_system_admin_gets_404(client, tanaka, url_name):
    client.force_login(tanaka)
    url = reverse(f"agencies:{url_name}")

    assert client.get(url).status_code == 404
    if url_name == "system_import":
        response = upload(client, "agencies", agency_csv(NAGANO_CENTER))
        assert response.status_code == 404
        assert not Agency.objects.filter(name=NAGANO_CENTER["名称"]).exists()


def test_the_imports_use_the_same_queries_for_3_rows_as_for_60(db):
    agencies_import(actor=None, data=agency_csv(FAMILY_GROUP))  # caches the content type
    few = [{**NAGANO_CENTER, "名称": f"センター{i}"} for i in range(3)]
    many = [{**NAGANO_CENTER, "名称": f"支所{i}"} for i in range(60)]

    with CaptureQueriesContext(connection) as three:
        agencies_import(actor=None, data=agency_csv(*few))
    with CaptureQueriesContext(connection) as sixty:
        agencies_import(actor=None, data=agency_csv(*many))

    # Savepoint; agencies (locked), service areas, functions and municipality codes read once;
    # one insert each for agencies, service areas and functions; the audit entry; release.
    assert len(three) == len(sixty) == 10

    with CaptureQueriesContext(connection) as unchanged:
        municipalities_import(actor=None, data=UTF8_FILE.read_bytes())
    # Savepoint; the municipalities (locked); the audit entry; release. Nothing else to write.
    assert len(unchanged) == 4
