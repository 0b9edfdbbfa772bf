from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "keydesk.accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .signals import note_last_login

        # Ours writes the same column with SQL built once (Django's saves the whole model).
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(note_last_login, dispatch_uid="keydesk_last_login")
