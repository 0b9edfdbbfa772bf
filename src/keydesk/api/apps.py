from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "keydesk.api"
    verbose_name = "API"
