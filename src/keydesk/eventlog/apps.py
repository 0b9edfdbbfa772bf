from django.apps import AppConfig


class EventlogConfig(AppConfig):
    name = "keydesk.eventlog"
    verbose_name = "Event log"
