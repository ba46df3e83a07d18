"""The ministry's municipality code list (全国地方公共団体コード), parsed and checked. No writes.

The Ministry of Internal Affairs and Communications publishes the list as a spreadsheet; offices
hand it over as CSV in the same column layout, usually in Shift_JIS (CP932), sometimes in UTF-8
with Excel's byte-order mark. Everything here works on bytes in and plain rows out, so the
import service, the data migration and the tests share one reading of the file.

Every row is checked before anything is written anywhere: the caller gets either clean rows or
the full list of bad rows, each with its 1-based file line (the header is line 1).
"""

import csv
import io
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.japanese import search_key, to_katakana

from .codes import check_digit, is_valid_local_government_code
from .models import MunicipalityKind

# The list shipped with Tsunagu (see agencies/data/README.md).
BUNDLED_FILE = Path(__file__).resolve().parent / "data" / "municipalities.csv"

HEADER = (
    "団体コード",
    "都道府県名（漢字）",
    "市区町村名（漢字）",
    "都道府県名（カナ）",
    "市区町村名（カナ）",
)

# The 20 designated cities (政令指定都市), by code; every code checked against the bundled file.
DESIGNATED_CITY_CODES = frozenset(
    {
        "011002",  # 札幌市
        "041009",  # 仙台市
        "111007",  # さいたま市
        "121002",  # 千葉市
        "141003",  # 横浜市
        "141305",  # 川崎市
        "141500",  # 相模原市
        "151009",  # 新潟市
        "221007",  # 静岡市
        "221309",  # 浜松市
        "231002",  # 名古屋市
        "261009",  # 京都市
        "271004",  # 大阪市
        "271403",  # 堺市
        "281000",  # 神戸市
        "331007",  # 岡山市
        "341002",  # 広島市
        "401005",  # 北九州市
        "401307",  # 福岡市
        "431001",  # 熊本市
    }
)

# The 62 core cities (中核市) as of 2024-04-01. Source: 総務省「中核市・施行時特例市一覧」
# (https://www.soumu.go.jp/cyukaku/), and the 中核市市長会 list of members. Keyed by
# (prefecture, name) rather than code so a reader can check the list against the ministry's page;
# a city designated later is corrected by hand (kind_is_manual) until this list is updated.
CORE_CITIES = frozenset(
    {
        ("北海道", "函館市"),
        ("北海道", "旭川市"),
        ("青森県", "青森市"),
        ("青森県", "八戸市"),
        ("岩手県", "盛岡市"),
        ("秋田県", "秋田市"),
        ("山形県", "山形市"),
        ("福島県", "福島市"),
        ("福島県", "郡山市"),
        ("福島県", "いわき市"),
        ("茨城県", "水戸市"),
        ("栃木県", "宇都宮市"),
        ("群馬県", "前橋市"),
        ("群馬県", "高崎市"),
        ("埼玉県", "川越市"),
        ("埼玉県", "川口市"),
        ("埼玉県", "越谷市"),
        ("千葉県", "船橋市"),
        ("千葉県", "柏市"),
        ("東京都", "八王子市"),
        ("神奈川県", "横須賀市"),
        ("富山県", "富山市"),
        ("石川県", "金沢市"),
        ("福井県", "福井市"),
        ("山梨県", "甲府市"),
        ("長野県", "長野市"),
        ("長野県", "松本市"),
        ("岐阜県", "岐阜市"),
        ("愛知県", "豊橋市"),
        ("愛知県", "岡崎市"),
        ("愛知県", "一宮市"),
        ("愛知県", "豊田市"),
        ("滋賀県", "大津市"),
        ("大阪府", "豊中市"),
        ("大阪府", "吹田市"),
        ("大阪府", "高槻市"),
        ("大阪府", "枚方市"),
        ("大阪府", "八尾市"),
        ("大阪府", "寝屋川市"),
        ("大阪府", "東大阪市"),
        ("兵庫県", "姫路市"),
        ("兵庫県", "尼崎市"),
        ("兵庫県", "明石市"),
        ("兵庫県", "西宮市"),
        ("奈良県", "奈良市"),
        ("和歌山県", "和歌山市"),
        ("鳥取県", "鳥取市"),
        ("島根県", "松江市"),
        ("岡山県", "倉敷市"),
        ("広島県", "呉市"),
        ("広島県", "福山市"),
        ("山口県", "下関市"),
        ("香川県", "高松市"),
        ("愛媛県", "松山市"),
        ("高知県", "高知市"),
        ("福岡県", "久留米市"),
        ("長崎県", "長崎市"),
        ("長崎県", "佐世保市"),
        ("大分県", "大分市"),
        ("宮崎県", "宮崎市"),
        ("鹿児島県", "鹿児島市"),
        ("沖縄県", "那覇市"),
    }
)

TOKYO_PREFIX = "13"

# Field sizes of agencies.Municipality, checked here so a long name is a reported row and not
# a database error halfway through a bulk insert.
NAME_MAX_LENGTH = 50
KANA_MAX_LENGTH = 100

# Kinds that have a welfare office (福祉事務所) by law: prefectures, every city and Tokyo's special
# wards must set one up; towns and villages may, and the few that do are corrected by hand.
KINDS_WITH_WELFARE_OFFICE = frozenset(
    {
        MunicipalityKind.PREFECTURE,
        MunicipalityKind.DESIGNATED_CITY,
        MunicipalityKind.CORE_CITY,
        MunicipalityKind.CITY,
        MunicipalityKind.SPECIAL_WARD,
    }
)


@dataclass(frozen=True)
class Message:
    """A translatable reason with its parameters, rendered in the language active when shown.

    Formatting a lazy string with ``%`` renders it at once, in whatever language is active while
    parsing; keeping msgid and parameters apart lets a command print it in Japanese and a page
    in the reader's language.
    """

    text: Promise | str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        if not self.params:
            return str(self.text)
        # Nested messages and lazy labels render now; numbers stay numbers for %(x)d.
        return str(self.text) % {
            key: str(value) if isinstance(value, Promise | Message) else value
            for key, value in self.params.items()
        }


@dataclass(frozen=True)
class RowError:
    """A bad row: its 1-based line in the file (the header is line 1) and why it is bad."""

    line: int
    reason: Message

    @property
    def message(self) -> str:
        return str(self.reason)

    def __str__(self) -> str:
        return str(_("Line %(line)s: %(reason)s") % {"line": self.line, "reason": self.reason})


class UnreadableFileError(ValueError):
    """The file as a whole cannot be read (encoding, CSV syntax); ``line`` is where it stopped."""

    def __init__(self, reason: Message, line: int = 1):
        super().__init__(str(reason))
        self.reason = reason
        self.line = line


@dataclass(frozen=True)
class MunicipalityRow:
    line: int
    code: str
    prefecture_name: str
    name: str
    name_kana: str
    kind: MunicipalityKind
    has_welfare_office: bool

    @property
    def is_prefecture(self) -> bool:
        return self.kind == MunicipalityKind.PREFECTURE

    @property
    def prefecture_code(self) -> str | None:
        """The code of the prefecture row this municipality belongs to (None for prefectures)."""
        return None if self.is_prefecture else prefecture_code_for(self.code)

    @property
    def search_key(self) -> str:
        return search_key(self.name, self.name_kana)


@dataclass
class MunicipalityList:
    rows: list[MunicipalityRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def prefecture_code_for(code: str) -> str:
    """The prefecture's code from any code of the prefecture: two digits, 000, check digit."""
    first_five = f"{code[:2]}000"
    return f"{first_five}{check_digit(first_five)}"


def is_prefecture_code(code: str) -> bool:
    return code[2:5] == "000"


def decode(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM), else CP932. Anything else is refused.

    CP932 is tried second because a Shift_JIS file is almost never valid UTF-8, while a UTF-8
    file would decode as CP932 into nonsense without any error.
    """
    if not data.strip():
        raise UnreadableFileError(Message(_("The file is empty.")))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise UnreadableFileError(
            Message(
                _(
                    "The file is in UTF-16, which cannot be read. Save it as “CSV UTF-8” "
                    "or as CSV in Shift_JIS and upload it again."
                )
            )
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UnreadableFileError(
            Message(
                _(
                    "The file is neither UTF-8 nor Shift_JIS (CP932) text. Save it as "
                    "“CSV UTF-8” or as CSV in Shift_JIS and upload it again."
                )
            ),
            line=line,
        ) from None


def normalise_header(cell: str) -> str:
    # The ministry's spreadsheet breaks its headers over two lines (都道府県名\n（漢字）) and
    # Excel may narrow the brackets; compare headers without either difference.
    return "".join(unicodedata.normalize("NFKC", cell).split())


def read_csv(text: str) -> list[tuple[int, list[str]]]:
    """(first line, cells) for every non-empty record; multi-line quoted cells are one record."""
    reader = csv.reader(io.StringIO(text, newline=""))
    records = []
    previous_line = 0
    try:
        for cells in reader:
            first_line = previous_line + 1
            previous_line = reader.line_num
            # Excel leaves rows of bare commas below the data; they carry nothing to check.
            if any(cell.strip() for cell in cells):
                records.append((first_line, cells))
    except csv.Error as error:
        raise UnreadableFileError(
            Message(_("The file cannot be read as CSV here: %(reason)s"), {"reason": error}),
            line=reader.line_num,
        ) from None
    return records


def parse_municipality_list(data: bytes) -> MunicipalityList:
    """Read and check the whole file; derive each row's kind and welfare office."""
    result = MunicipalityList()
    try:
        records = iter(read_csv(decode(data)))
    except UnreadableFileError as error:
        result.errors.append(RowError(error.line, error.reason))
        return result

    header = next(records, None)
    expected = [normalise_header(cell) for cell in HEADER]
    if header is None or [normalise_header(cell) for cell in header[1]] != expected:
        result.errors.append(
            RowError(
                header[0] if header else 1,
                Message(
                    _("The first line must be the header %(header)s."),
                    {"header": ",".join(HEADER)},
                ),
            )
        )
        return result

    first_line_of_code: dict[str, int] = {}
    prefecture_rows: dict[str, tuple[int, str]] = {}  # code -> (line, name)
    candidates: list[MunicipalityRow] = []

    for line, cells in records:
        row, errors = _parse_row(line, cells)
        result.errors.extend(errors)
        code = cells[0].strip() if cells else ""
        if _looks_like_code(code):
            if code in first_line_of_code:
                result.errors.append(
                    RowError(
                        line,
                        Message(
                            _("The code %(code)s appears again (first on line %(first)s)."),
                            {"code": code, "first": first_line_of_code[code]},
                        ),
                    )
                )
                continue
            first_line_of_code[code] = line
            # Any prefecture-shaped row counts, even a bad one, so that one broken prefecture
            # row is reported once and not again for each of its municipalities.
            if is_prefecture_code(code) and len(cells) == len(HEADER):
                prefecture_rows[code[:2]] = (line, cells[1].strip())
        if row is not None:
            candidates.append(row)

    for row in candidates:
        if row.is_prefecture:
            continue
        prefecture = prefecture_rows.get(row.code[:2])
        if prefecture is None:
            result.errors.append(
                RowError(
                    row.line,
                    Message(
                        _("There is no prefecture row (code %(prefecture_code)s) for %(code)s."),
                        {"prefecture_code": prefecture_code_for(row.code), "code": row.code},
                    ),
                )
            )
        elif prefecture[1] != row.prefecture_name:
            result.errors.append(
                RowError(
                    row.line,
                    Message(
                        _(
                            "The prefecture name %(name)s differs from the prefecture row on "
                            "line %(line)s (%(expected)s)."
                        ),
                        {
                            "name": row.prefecture_name,
                            "line": prefecture[0],
                            "expected": prefecture[1],
                        },
                    ),
                )
            )

    result.errors.sort(key=lambda error: error.line)
    if not result.errors:
        result.rows = candidates
    return result


# Codes of 北海道 to 栃木県 start with 0, and Excel drops it when it opens a CSV file. Said, not
# guessed: a 5-digit cell may as well be a JIS code without its check digit.
LOST_ZERO_MESSAGE = _(
    "The code %(code)s has 5 digits: Excel drops the leading zero of codes 01… to 09…. "
    "Write it as 0%(code)s, with the column formatted as text."
)


def lost_leading_zero(code: str) -> bool:
    """Whether a 5-digit cell is a valid code that lost its leading zero (Excel does this)."""
    return len(code) == 5 and is_valid_local_government_code(f"0{code}")


def _looks_like_code(code: str) -> bool:
    return len(code) == 6 and code.isascii() and code.isdigit()


def _parse_row(line: int, cells: list[str]) -> tuple[MunicipalityRow | None, list[RowError]]:
    def error(text, **params) -> RowError:
        return RowError(line, Message(text, params))

    if len(cells) != len(HEADER):
        return None, [
            error(
                _("The row has %(count)s columns; it must have %(expected)s."),
                count=len(cells),
                expected=len(HEADER),
            )
        ]
    code, prefecture_name, name, prefecture_kana, name_kana = (cell.strip() for cell in cells)
    errors = []
    if lost_leading_zero(code):
        errors.append(error(LOST_ZERO_MESSAGE, code=code))
    elif not _looks_like_code(code):
        errors.append(error(_("The code %(code)s is not 6 digits."), code=code or "—"))
    elif not is_valid_local_government_code(code):
        errors.append(
            error(_("The code %(code)s has a wrong check digit (last digit)."), code=code)
        )
    if not prefecture_name:
        errors.append(error(_("The prefecture name is missing.")))
    # A code that lost its leading zero is reported once, not again as a row without a name.
    shape = f"0{code}" if lost_leading_zero(code) else code
    is_prefecture = _looks_like_code(shape) and is_prefecture_code(shape)
    if not is_prefecture and not name:
        errors.append(error(_("The municipality name is missing.")))

    own_name = prefecture_name if is_prefecture else name
    own_kana = to_katakana(prefecture_kana if is_prefecture else name_kana)
    if len(own_name) > NAME_MAX_LENGTH:
        errors.append(
            error(
                _("The name is longer than %(max)s characters."),
                max=NAME_MAX_LENGTH,
            )
        )
    if len(own_kana) > KANA_MAX_LENGTH:
        errors.append(
            error(
                _("The kana reading is longer than %(max)s characters."),
                max=KANA_MAX_LENGTH,
            )
        )

    kind = None
    if is_prefecture:
        kind = MunicipalityKind.PREFECTURE
    elif name and _looks_like_code(code):
        kind = _kind_for(code, prefecture_name, name)
        if kind is None:
            errors.append(_kind_error(line, code, name))

    if errors or kind is None:
        return None, errors
    return (
        MunicipalityRow(
            line=line,
            code=code,
            prefecture_name=prefecture_name,
            name=own_name,
            name_kana=own_kana,
            kind=kind,
            has_welfare_office=kind in KINDS_WITH_WELFARE_OFFICE,
        ),
        [],
    )


def _kind_for(code: str, prefecture_name: str, name: str) -> MunicipalityKind | None:
    if code in DESIGNATED_CITY_CODES:
        return MunicipalityKind.DESIGNATED_CITY
    if (prefecture_name, name) in CORE_CITIES:
        return MunicipalityKind.CORE_CITY
    if name.endswith("区"):
        # Only Tokyo's 23 wards are municipalities; a designated city's wards are not.
        return MunicipalityKind.SPECIAL_WARD if code.startswith(TOKYO_PREFIX) else None
    return {
        "市": MunicipalityKind.CITY,
        "町": MunicipalityKind.TOWN,
        "村": MunicipalityKind.VILLAGE,
    }.get(name[-1])


def _kind_error(line: int, code: str, name: str) -> RowError:
    if name.endswith("区"):
        return RowError(
            line,
            Message(
                _(
                    "%(name)s (%(code)s) is a ward of a designated city; the list holds "
                    "municipalities only."
                ),
                {"name": name, "code": code},
            ),
        )
    return RowError(
        line,
        Message(
            _("Cannot tell the kind of %(name)s: the name must end in 市, 区, 町 or 村."),
            {"name": name},
        ),
    )
