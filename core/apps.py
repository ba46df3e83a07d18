from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Small helpers every app needs: Japanese text handling and keyset pagination."""

    name = "core"
