"""What a browser reads from a page before it acts: the forms with the values they would submit,
the links, the htmx requests the page makes by itself or when a section is opened, and the
static files it loads. Only the standard library's HTML parser: the load script must not need
a browser."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Inputs a browser never submits by themselves (a submit button only when it is clicked).
NOT_SUBMITTED = {"submit", "button", "reset", "image", "file"}


@dataclass
class Form:
    attrs: dict[str, str]
    # (name, value) in document order, as the browser would send them without any typing.
    fields: list[tuple[str, str]] = field(default_factory=list)
    # Names of the visible text-like inputs: where a person types.
    typed: list[str] = field(default_factory=list)

    def action(self, page_path: str) -> str:
        """Where htmx or the browser sends it: hx-post, hx-get, then action, then the page."""
        return (
            self.attrs.get("hx-post")
            or self.attrs.get("hx-get")
            or self.attrs.get("action")
            or page_path
        )

    @property
    def method(self) -> str:
        if "hx-post" in self.attrs:
            return "POST"
        if "hx-get" in self.attrs:
            return "GET"
        return (self.attrs.get("method") or "get").upper()

    def values(self, **typed: str) -> list[tuple[str, str]]:
        """The fields with ``typed`` replacing (or adding) the named ones."""
        pairs = [(name, value) for name, value in self.fields if name not in typed]
        return pairs + list(typed.items())

    def has(self, name: str) -> bool:
        return any(field_name == name for field_name, _ in self.fields)


@dataclass
class HtmxElement:
    attrs: dict[str, str]

    @property
    def url(self) -> str:
        return self.attrs["hx-get"]

    @property
    def triggers(self) -> list[str]:
        """'load, every 60s' → ['load', 'every 60s']"""
        return [part.strip() for part in self.attrs.get("hx-trigger", "").split(",")]

    @property
    def target_id(self) -> str:
        """The id htmx sends as HX-Target: the target's when it is named by id, else its own."""
        target = self.attrs.get("hx-target", "")
        return target[1:] if target.startswith("#") else self.attrs.get("id", "")


class Page(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self.htmx: list[HtmxElement] = []
        self.assets: list[str] = []
        self.csrf_header = ""
        self._form: Form | None = None
        self._select: tuple[str, bool] | None = None  # (name, multiple)
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []
        self.feed(html)
        self.close()

    # --- the parser's callbacks

    def handle_starttag(self, tag: str, attr_list: list) -> None:
        attrs = {name: value or "" for name, value in attr_list}
        if "hx-get" in attrs and tag != "form" and tag != "input":
            self.htmx.append(HtmxElement(attrs))
        if tag == "body" and "hx-headers" in attrs:
            match = re.search(r'"X-CSRFToken"\s*:\s*"([^"]+)"', attrs["hx-headers"])
            self.csrf_header = match[1] if match else ""
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "link" and attrs.get("rel") == "stylesheet" and attrs.get("href"):
            self.assets.append(attrs["href"])
        elif tag == "script" and attrs.get("src"):
            self.assets.append(attrs["src"])
        elif tag == "form":
            self._form = Form(attrs)
            self.forms.append(self._form)
        elif self._form is not None:
            self._form_field(tag, attrs)

    def _form_field(self, tag: str, attrs: dict[str, str]) -> None:
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind in NOT_SUBMITTED or "disabled" in attrs:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self._form.fields.append((name, attrs.get("value", "on")))
                return
            self._form.fields.append((name, attrs.get("value", "")))
            if kind != "hidden":
                self._form.typed.append(name)
        elif tag == "select" and name:
            self._select = (name, "multiple" in attrs)
            self._options = []
        elif tag == "option" and self._select is not None:
            self._options.append((attrs.get("value", ""), "selected" in attrs))
        elif tag == "textarea" and name:
            self._textarea = name
            self._text = []
            self._form.typed.append(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]  # a single select sends its first option
            self._form.fields.extend((name, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    # --- what the load script asks

    def form_with(self, name: str) -> Form | None:
        """The first form with a field called ``name``."""
        return next((form for form in self.forms if form.has(name)), None)

    def triggered_by(self, event: str) -> list[HtmxElement]:
        """Elements that request themselves on ``event`` ('load', 'toggle once', or an event
        sent with HX-Trigger, heard 'from:body')."""
        found = []
        for element in self.htmx:
            for trigger in element.triggers:
                words = trigger.split()
                if words and words[0] == event:
                    found.append(element)
                    break
        return found


def route(path: str) -> str:
    """A request's name in the statistics: its path without the ids and the query."""
    return UUID.sub("<id>", path.split("?", 1)[0])
