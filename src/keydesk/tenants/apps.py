from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "keydesk.tenants"
