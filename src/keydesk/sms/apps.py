from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "keydesk.sms"
    verbose_name = "SMS"
