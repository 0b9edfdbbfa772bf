"""Reading passes: always one person's, within their tenant."""

from .models import TemporaryAccessPass


def tap_get(*, user) -> TemporaryAccessPass | None:
    """The person's pass (without its secret, which is never stored), or None."""
    return (
        TemporaryAccessPass.objects.filter(tenant_id=user.tenant_id, user=user)
        .select_related("created_by")
        .first()
    )
