"""Hostile values, and submissions built from a form: a valid baseline, then mutations of it.

A submission is a list of (name, value) pairs in the order a browser sends them, so that a
field can be missing or sent twice; a value is text, or bytes for what no browser's UTF-8
encoder makes (a lone surrogate's bytes, a stray 0xff).
"""

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote_plus

from django.utils import timezone
from hypothesis import strategies as st

from .html import DATED, Field, Form

Value = str | bytes
Pairs = list[tuple[str, Value]]

HUGE = "9" * 40
FULL_WIDTH = str.maketrans("0123456789-/:", "０１２３４５６７８９－／：")


def full_width(text: str) -> str:
    return text.translate(FULL_WIDTH)


# --- The hostile values --------------------------------------------------------------------

long_text = st.builds(
    lambda unit, count: unit * count,
    st.sampled_from(["あ", "x", "山本 太郎 ", "😀", "\u3000"]),
    st.integers(10_001, 12_000),
)
control = st.builds(
    lambda head, cc, tail: head + cc + tail,
    st.sampled_from(["", "相談", "abc"]),
    st.text(st.characters(categories=["Cc"], exclude_characters="\x00"), min_size=1, max_size=5),
    st.sampled_from(["", "メモ", "xyz"]),
)
nul = st.sampled_from(["\x00", "前\x00後", "2026-12-03\x00", "1\x00"])
emoji = st.one_of(
    st.text(st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), min_size=1, max_size=8),
    st.sampled_from(
        [
            "👨‍👩‍👧‍👦",  # a family: one grapheme of seven code points
            "🇯🇵",
            "𠮷野家",  # outside the BMP, in a name
            "\u202e逆順\u202c",  # right-to-left override
            "e\u0301\u0301\u0301",  # combining marks
        ]
    ),
)
# Bytes no browser's UTF-8 encoder sends: a lone surrogate (ED A0 80), a stray FF, a cut-off
# three-byte sequence.
bad_utf8 = st.sampled_from([b"\xed\xa0\x80", b"ab\xffcd", b"\xe3\x81"])
impossible_dates = st.sampled_from(
    [
        "2026-02-30",
        "2026-13-01",
        "2026-00-10",
        "0000-01-01",
        "0001-01-01",
        "9999-12-31",
        "10000-01-01",
        "-2026-01-01",
        "2026-2-30",
        "令和8年2月30日",
        "２０２６－１２－０３",
        "２０２６-１２-０３",
        "２０２６／１２／０３",
        "25:61",
    ]
)
numbers = st.sampled_from(
    [
        HUGE,
        "-" + HUGE,
        "-1",
        "0",
        "1e308",
        "NaN",
        "Infinity",
        "2147483648",
        "9223372036854775808",
        "1.5",
        "0x10",
        "１２",
        "٣",  # an Arabic-Indic three: a digit to str.isdigit()
    ]
)
phones = st.sampled_from(
    ["０９０－１２３４－５６７８", "０２６（２２４）５０５０", "+81-90-" + HUGE]
)
markup = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "{{ 7|add:7 }}{% now 'Y' %}",
        "' OR 1=1 --",
        '=HYPERLINK("http://example.com")',
        "%s%n%x",
        "../../etc/passwd",
    ]
)
not_an_option = st.one_of(
    st.sampled_from([HUGE, "-1", "0", "no-such-option", "00000000-0000-0000-0000-000000000000"]),
    st.uuids().map(str),
)
HOSTILE = st.one_of(
    long_text,
    control,
    nul,
    emoji,
    bad_utf8,
    impossible_dates,
    numbers,
    phones,
    markup,
    not_an_option,
)


def hostile_for(field: Field, baseline: Value) -> st.SearchStrategy[Value]:
    """Any hostile value, the field's own kind more often: full-width digits of its valid
    value, impossible dates for a date, huge numbers for a number, a value not offered."""
    own = [HOSTILE]
    if isinstance(baseline, str) and any(c.isdigit() for c in baseline):
        own.append(st.just(full_width(baseline)))
    if field.kind in DATED:
        own.append(impossible_dates)
    if field.kind == "number":
        own.append(numbers)
    if field.kind == "tel":
        own.append(phones)
    if field.picked:
        own.append(not_an_option)
    return st.one_of(*own)


# --- The baseline: what a person who fills the form in sensibly sends ---------------------------

# A required text box left empty on the page, filled by what its name asks for.
BY_NAME = (
    ("kana", "ヤマダ タロウ"),
    ("phone", "090-1234-5678"),
    ("postal", "380-0001"),
    ("email", "hostile@example.jp"),
    ("password", "correct-horse-battery-staple"),
    ("time", "10:00"),
)


def _typed_default(field: Field) -> str:
    if field.kind == "number":
        return "1"
    if field.kind == "email":
        return "hostile@example.jp"
    for part, value in BY_NAME:
        if part in field.name:
            return value
    return "確認のための入力"


def _dated_default(field: Field) -> str:
    today = timezone.localdate()
    return {
        "date": today.isoformat(),
        "time": "10:00",
        "month": today.strftime("%Y-%m"),
        "datetime-local": f"{today.isoformat()}T10:00",
    }[field.kind]


def baseline(form: Form, overrides: dict) -> Pairs:
    """The form as the page shows it, required blanks filled in, then ``overrides``
    (name → value or list of values) replacing the page's values."""
    pairs: Pairs = []
    radios_done: set[str] = set()
    for field in form.fields:
        if field.disabled or field.kind == "file" or field.name in overrides:
            continue
        if field.kind in {"select", "select-multiple"}:
            chosen = [v for v in field.selected if v] or [o for o in field.options if o][:1]
            if field.kind == "select-multiple" and not field.selected and not field.required:
                chosen = []
            pairs += [(field.name, value) for value in chosen]
        elif field.kind == "checkbox":
            group = form.named(field.name)
            # A group of tick boxes (categories, topics) is usually required: tick the first.
            nothing_ticked = len(group) > 1 and not any(f.checked for f in group)
            if field.checked or (nothing_ticked and field is group[0]):
                pairs.append((field.name, field.value))
        elif field.kind == "radio":
            if field.name in radios_done:
                continue
            group = form.named(field.name)
            chosen = [f for f in group if f.checked] or group[:1]
            radios_done.add(field.name)
            pairs.append((field.name, chosen[0].value))
        elif field.value or field.kind == "hidden" or not field.required:
            pairs.append((field.name, field.value))
        elif field.kind in DATED:
            pairs.append((field.name, _dated_default(field)))
        else:
            pairs.append((field.name, _typed_default(field)))
    for name, value in overrides.items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((name, str(one)))
    if form.submit and form.submit[0] not in {name for name, _ in pairs}:
        pairs.append(form.submit)
    return pairs


def days_from_today(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


# --- Mutations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    name: str
    op: str  # "replace", "missing" or "twice"
    value: Value = ""
    first: bool = False  # for "twice": the hostile value comes first

    def apply(self, pairs: Pairs) -> Pairs:
        kept = [(n, v) for n, v in pairs if n != self.name]
        if self.op == "missing":
            return kept
        if self.op == "replace":
            return [*kept, (self.name, self.value)]
        valid = next((v for n, v in pairs if n == self.name), "")
        two = [(self.name, self.value), (self.name, valid)]
        return [*kept, *(two if self.first else two[::-1])]


def mutations(form: Form, pairs: Pairs) -> st.SearchStrategy[list[Mutation]]:
    """One to three fields of the form, each replaced by a hostile value, left out, or sent
    twice (the valid value and a hostile one)."""
    fields = {f.name: f for f in form.fields if not f.disabled and f.kind != "file"}
    if not fields:
        return st.just([])
    sent = dict(pairs)

    def one(name: str) -> st.SearchStrategy[Mutation]:
        field = fields[name]
        value = hostile_for(field, sent.get(name, ""))
        return st.one_of(
            value.map(lambda v: Mutation(name, "replace", v)),
            value.map(lambda v: Mutation(name, "replace", v)),
            st.just(Mutation(name, "missing")),
            st.builds(lambda v, first: Mutation(name, "twice", v, first), value, st.booleans()),
        )

    names = st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=3, unique=True)
    return names.flatmap(lambda chosen: st.tuples(*(one(n) for n in chosen)).map(list))


def encode(pairs: Pairs) -> str:
    """The urlencoded body, bytes values as they are (a browser's form encoding)."""
    return "&".join(f"{quote_plus(name)}={quote_plus(value)}" for name, value in pairs)
