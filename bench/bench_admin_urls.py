"""The site's URLs plus a bench-only admin site whose referral changelist is Django's default
ModelAdmin: the naive baseline bench/pages.py compares the incoming queue's deep page with."""

from django.contrib import admin
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns
from referrals.models import Referral

bench_site = admin.AdminSite(name="bench_admin")
bench_site.register(Referral)

urlpatterns = [*site_urlpatterns, path("bench-admin/", bench_site.urls)]
