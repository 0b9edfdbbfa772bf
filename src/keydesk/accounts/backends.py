"""Authentication backends: tenant people sign in through the pipeline; operators at /ops/."""

from django.contrib.auth.backends import BaseBackend, ModelBackend

from .models import User


class TenantUserBackend(BaseBackend):
    """Restores a tenant person from the session; credentials are checked by the sign-in pipeline."""

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        user = (
            User.objects.filter(pk=user_id, tenant__isnull=False).select_related("tenant").first()
        )
        return user if user is not None and user.is_active else None


class OperatorBackend(ModelBackend):
    """Platform operators (superusers without a tenant) for the Django admin at /ops/."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        return user if user is not None and user.tenant_id is None and user.is_superuser else None

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.tenant_id is None else None
