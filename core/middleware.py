"""Nothing the application answers may be kept by a browser or a proxy.

Every page behind the login may name a person in crisis — the client page, a plan or referral
print, a search result, a fragment the page loads later — and deciding page by page is how some
were missed. So every response of the application is ``Cache-Control: private, no-store``: the
back button after logging out, a shared computer at the counter, a proxy at the municipality
keep nothing. Static files (Bootstrap, htmx, the app's scripts) are served by WhiteNoise before
this middleware runs and keep their long cache.
"""

from django.utils.cache import patch_cache_control


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, private=True, no_store=True)
        return response
