"""No query string in a server log.

The searches send a person's name in a POST body, so it never reaches a URL; but a URL typed by
hand, an old bookmark or a page not yet converted could still carry ``?q=山本 太郎``, and an access
log is kept for months and read by people who may not see client records. So every request line
a log writes keeps its method, path and protocol and loses its query string: a cursor or a
status filter lost from the log costs nothing, a name written there cannot be taken back.

``WithoutQueryString`` is a logging filter for Django's own server log (``django.server``:
``runserver``'s request lines) and ``django.request``; the gunicorn access log, which production
writes, is cleaned by ``config/gunicorn.py`` with ``without_query``.
"""

import logging
import re

# A request line as servers log it, alone or inside a message: 'GET /clients/?q=… HTTP/1.1'.
REQUEST_LINE = re.compile(r"\b(?P<method>[A-Z]+) (?P<path>/[^\s?#]*)[?#][^\n\"]*?(?= HTTP/\d)")
# A path with a query string, alone (django.request's "Not Found: %s" gets the path).
PATH = re.compile(r"^(?P<path>/[^\s?#]*)[?#]\S*$")


def without_query(url: str) -> str:
    """The URL (or path, or Referer header) up to its query string or fragment."""
    return url.split("?", 1)[0].split("#", 1)[0]


def clean(text: str) -> str:
    """The text with every request line's (or the lone path's) query string taken out."""
    if "?" not in text and "#" not in text:
        return text
    text = PATH.sub(r"\g<path>", text)
    return REQUEST_LINE.sub(r"\g<method> \g<path>", text)


class WithoutQueryString(logging.Filter):
    """Takes the query string out of the request lines of a log record, in its message and in
    its string arguments: the record is kept, only shortened. Attached to a logger, it cleans
    the record before any handler (or a test's capture) sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = clean(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(clean(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True
