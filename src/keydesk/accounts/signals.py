"""Receivers of Django's auth signals."""

from django.utils import timezone

from keydesk.core.queries import PreparedUpdate

from .models import User

_set_last_login = PreparedUpdate(User, fields=("last_login",), keys=("id",))


def note_last_login(sender, user, **kwargs) -> None:
    """Django's `update_last_login`, as one prepared UPDATE."""
    user.last_login = timezone.now()
    _set_last_login.run((user.last_login,), (user.pk,))
