"""gunicorn's settings for Tsunagu (``gunicorn -c config/gunicorn.py config.wsgi``): the access
log writes no query string and no Referer's query string.

The searches POST a person's name, so it is in no URL; this is the second lock, for a URL typed
by hand or an old bookmark with ``?q=山本 太郎``: an access log is kept for months and read by
people who may not see client records. The logger class (not only a format without ``%(q)s``)
cleans every atom that can carry a query — the request line ``%(r)s``, ``%(q)s``, the Referer
``%(f)s`` and the raw URI and query in ``%({…}e)s``/``%({…}i)s`` — so an ``--access-logformat``
given on the command line cannot bring them back. The path, the status, the size and the time
stay: enough to read traffic and errors.
"""

from gunicorn.glogging import Logger

from core.logging import without_query

# The path (%(U)s is PATH_INFO, decoded: the request line keeps the path as it was sent).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'


class AccessLogWithoutQuery(Logger):
    """gunicorn's logger, its access-log atoms without query strings."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        raw_uri = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
        atoms["r"] = "{} {} {}".format(
            environ.get("REQUEST_METHOD"), without_query(raw_uri), environ.get("SERVER_PROTOCOL")
        )
        atoms["q"] = "-"
        atoms["f"] = without_query(atoms["f"])
        for key in ("{raw_uri}e", "{request_uri}e"):
            if key in atoms:
                atoms[key] = without_query(atoms[key])
        for key in ("{query_string}e", "{http_referer}e"):
            atoms.pop(key, None)
        if "{referer}i" in atoms:
            atoms["{referer}i"] = without_query(atoms["{referer}i"])
        return atoms


logger_class = AccessLogWithoutQuery
