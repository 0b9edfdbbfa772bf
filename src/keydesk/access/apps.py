from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "keydesk.access"
    verbose_name = "Access lists"

    def ready(self):
        # Checked once the factor is proven, so the "restricted" answer tells nothing to
        # someone who does not know the password (design: access lists, deny wins).
        from keydesk.accounts import signin

        from .signin import check_access

        if check_access not in signin.first_factor_stages:
            position = signin.first_factor_stages.index(signin.check_account_may_sign_in)
            signin.first_factor_stages.insert(position, check_access)
