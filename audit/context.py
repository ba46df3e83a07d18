"""Which page the current request is on, for the access log.

Selectors that refuse a client record (a 404) do not see the request; the access log still has
to say on which page the attempt was made, so the middleware leaves it here for them.
"""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    name: str
    path: str


UNKNOWN = Page(name="", path="")
_current: ContextVar[Page] = ContextVar("current_page", default=UNKNOWN)


def current_page() -> Page:
    return _current.get()


def set_current_page(page: Page):
    return _current.set(page)


def reset_current_page(token) -> None:
    _current.reset(token)
