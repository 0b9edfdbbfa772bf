from django.apps import AppConfig


class MfaConfig(AppConfig):
    name = "keydesk.mfa"
    verbose_name = "Two-factor authentication"

    def ready(self):
        # The second factor comes before the required actions (design: stage 6, then 7).
        from keydesk.accounts import signin

        from .challenge import second_factor_stage
        from .policy import authenticators_read, keep_authenticators

        if second_factor_stage not in signin.pending_stages:
            signin.pending_stages.insert(0, second_factor_stage)
            # The stage's lookup goes with the try the sign-in takes.
            signin.person_reads.append((authenticators_read, keep_authenticators))
