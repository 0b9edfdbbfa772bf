"""Authentication backends: tenant people sign in through the pipeline; operators at /ops/."""

from django.contrib.auth.backends import BaseBackend, ModelBackend

from keydesk.core.queries import Param, PreparedLookup

from .models import User
from .request_reads import take_person

# Every signed-in request restores its person by id.
_tenant_user_by_id = PreparedLookup(User.objects.filter(id=Param("id"), tenant__isnull=False))


class TenantUserBackend(BaseBackend):
    """Restores a tenant person from the session; credentials are checked by the sign-in pipeline."""

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        # The middleware then gives the user the request's tenant (after checking it is theirs).
        user = take_person(user_id) or _tenant_user_by_id.first(id=user_id)
        return user if user is not None and user.is_active else None


class OperatorBackend(ModelBackend):
    """Platform operators (superusers without a tenant) for the Django admin at /ops/."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        return user if user is not None and user.tenant_id is None and user.is_superuser else None

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.tenant_id is None else None
