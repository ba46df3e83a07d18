from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Generated data: the one app that may import every other (it has no models)."""

    name = "demo"
    verbose_name = "Demo and scale data"
