"""The forms of a page, read from its HTML as a browser would submit them (``html.parser``).

Only what a submission needs: each field's name, kind, the value the page shows, a select's
options, and the form's action (``action``, else htmx's ``hx-post``; empty: the page itself).
Fields outside the ``<form>`` element that name it (``form="id"``) belong to it too.
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser

# Input types a person types into; the rest are picked, ticked, hidden or uploaded.
TYPED = frozenset({"text", "search", "email", "tel", "url", "textarea", "number", "password"})
DATED = frozenset({"date", "datetime-local", "time", "month"})
# Elements without an end tag: the depth count must not wait for one.
VOID = frozenset({"input", "br", "img", "hr", "meta", "link", "source", "wbr", "col", "area"})
# Error markers of the project's templates: the crispy field errors and the form's alert.
ERROR_CLASSES = frozenset({"invalid-feedback", "alert-danger", "errorlist"})


@dataclass
class Field:
    name: str
    kind: str  # an input's type, "textarea", "select" or "select-multiple"
    value: str = ""
    checked: bool = False
    options: list[str] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)
    disabled: bool = False
    required: bool = False

    @property
    def typed(self) -> bool:
        return self.kind in TYPED

    @property
    def picked(self) -> bool:
        """A value chosen among the page's own (a select, a radio, a tick box, a hidden id)."""
        return self.kind in {"select", "select-multiple", "radio", "checkbox", "hidden"}


@dataclass
class Form:
    action: str | None
    method: str
    id: str = ""
    enctype: str = ""
    fields: list[Field] = field(default_factory=list)
    # The first submit button with a name: what pressing Enter sends.
    submit: tuple[str, str] | None = None

    def named(self, name: str) -> list[Field]:
        return [f for f in self.fields if f.name == name]


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.by_id: dict[str, Form] = {}
        self.orphans: list[tuple[str, object]] = []  # (form id, Field or submit) before the form
        self.current: Form | None = None
        self.select: Field | None = None
        self.option: dict | None = None
        self.textarea: Field | None = None
        self.errors: list[str] = []
        self.error_depth = 0
        self.depth = 0
        self.error_text: list[str] = []

    def _owner(self, attrs: dict) -> Form | None:
        if attrs.get("form"):
            return self.by_id.get(attrs["form"])
        return self.current

    def _add(self, attrs: dict, item) -> None:
        owner = self._owner(attrs)
        if owner is None and attrs.get("form"):
            self.orphans.append((attrs["form"], item))
        elif owner is not None:
            if isinstance(item, Field):
                owner.fields.append(item)
            elif owner.submit is None:
                owner.submit = item

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag not in VOID:
            self.depth += 1
            classes = set(a.get("class", "").split())
            if self.error_depth == 0 and classes & ERROR_CLASSES:
                self.error_depth = self.depth
                self.error_text = []
        self._start(tag, a)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, {k: (v if v is not None else "") for k, v in attrs})

    def _start(self, tag: str, a: dict) -> None:
        if tag == "form":
            form = Form(
                action=a.get("action") or a.get("hx-post") or None,
                method=(a.get("method") or ("post" if "hx-post" in a else "get")).lower(),
                id=a.get("id", ""),
                enctype=a.get("enctype", ""),
            )
            self.forms.append(form)
            self.current = form
            if form.id:
                self.by_id[form.id] = form
                for owner_id, item in [o for o in self.orphans if o[0] == form.id]:
                    self._add({"form": owner_id}, item)
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in {"submit", "image"}:
                self._add(a, (a["name"], a.get("value", "")))
            elif kind not in {"button", "reset"}:
                self._add(
                    a,
                    Field(
                        a["name"],
                        kind,
                        a.get("value", "on" if kind in {"checkbox", "radio"} else ""),
                        "checked" in a,
                        disabled="disabled" in a,
                        required="required" in a,
                    ),
                )
        elif tag == "button" and a.get("name") and a.get("type", "submit") == "submit":
            self._add(a, (a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            kind = "select-multiple" if "multiple" in a else "select"
            self.select = Field(a["name"], kind, disabled="disabled" in a, required="required" in a)
            self._add(a, self.select)
        elif tag == "option" and self.select is not None:
            self.option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
        elif tag == "textarea" and a.get("name"):
            self.textarea = Field(
                a["name"], "textarea", disabled="disabled" in a, required="required" in a
            )
            self._add(a, self.textarea)

    def handle_data(self, data):
        if self.option is not None:
            self.option["text"] += data
        if self.textarea is not None:
            self.textarea.value += data
        if self.error_depth:
            self.error_text.append(data)

    def handle_endtag(self, tag):
        if tag == "option" and self.option is not None:
            self._close_option()
        elif tag == "select":
            if self.option is not None:
                self._close_option()
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            # A textarea's first newline is not part of its value.
            self.textarea.value = self.textarea.value.removeprefix("\n")
            self.textarea = None
        elif tag == "form":
            self.current = None
        if tag in VOID:
            return
        if self.error_depth and self.depth == self.error_depth:
            self.errors.append(" ".join("".join(self.error_text).split()))
            self.error_depth = 0
        self.depth -= 1

    def _close_option(self):
        option, self.option = self.option, None
        value = option["value"] if option["value"] is not None else option["text"].strip()
        self.select.options.append(value)
        if option["selected"]:
            self.select.selected.append(value)


@dataclass
class Page:
    forms: list[Form]
    errors: list[str]  # the text of each error marker (field errors, the form's alert)


def read_page(html: str) -> Page:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return Page(forms=parser.forms, errors=[e for e in parser.errors if e])
