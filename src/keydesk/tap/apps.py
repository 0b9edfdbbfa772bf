from django.apps import AppConfig


class TapConfig(AppConfig):
    name = "keydesk.tap"
    verbose_name = "Temporary Access Pass"

    def ready(self):
        # The pass is a first factor: checked where the password would be.
        from keydesk.accounts import signin

        from .signin import check_tap_factor

        if check_tap_factor not in signin.first_factor_stages:
            position = signin.first_factor_stages.index(signin.check_password_factor) + 1
            signin.first_factor_stages.insert(position, check_tap_factor)
