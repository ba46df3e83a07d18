from django.contrib.admin.apps import AdminConfig


class TsunaguAdminConfig(AdminConfig):
    default_site = "config.admin.TsunaguAdminSite"
