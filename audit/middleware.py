from django.shortcuts import render

from .access_log import AccessLogUnavailableError
from .context import Page, reset_current_page, set_current_page


class AccessLogMiddleware:
    """Tell the access log which page is being served, and refuse the page when the log could
    not be written (fail closed: no entry, no page)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_current_page(Page(name="", path=request.path))
        try:
            return self.get_response(request)
        finally:
            reset_current_page(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        set_current_page(Page(name=match.view_name if match else "", path=request.path))

    def process_exception(self, request, exception):
        if isinstance(exception, AccessLogUnavailableError):
            return render(request, "access_log_unavailable.html", status=503)
        return None
