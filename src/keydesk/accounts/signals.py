"""Receivers of Django's auth signals."""

from django.utils import timezone

from keydesk.core.queries import Param, PreparedUpdate

from .models import User

_set_last_login = PreparedUpdate(
    User.objects.filter(id=Param("id")), last_login=Param("last_login")
)


def note_last_login(sender, user, **kwargs) -> None:
    """Django's `update_last_login`, as one prepared UPDATE."""
    user.last_login = timezone.now()
    _set_last_login.run_batched(id=user.pk, last_login=user.last_login)
