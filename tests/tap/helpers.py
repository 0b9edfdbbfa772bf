"""Helpers for the Temporary Access Pass tests: the policy turned on, passes made, sign-ins."""

import json
from datetime import timedelta

from keydesk.eventlog.models import Event
from keydesk.tap.models import TemporaryAccessPass
from keydesk.tap.services import tap_create, tap_policy_update


def enable(world, **policy):
    """Turn passes on for `world`, with any policy changes."""
    return tap_policy_update(tenant=world.tenant, actor=world.admin, enabled=True, **policy)


def make_pass(world, user, *, actor=None, **kwargs) -> tuple[TemporaryAccessPass, str]:
    """A pass for `user`, made by the world's admin unless `actor` is given."""
    return tap_create(user=user, actor=actor or world.admin, **kwargs)


def tap_sign_in(client, email: str, secret: str):
    return client.post("/login/tap", {"email": email, "tap": secret})


def shift(tap: TemporaryAccessPass, **delta) -> None:
    """Move a pass in time (the clock moved, not waited): both ends by `delta`."""
    moved = timedelta(**delta)
    TemporaryAccessPass.objects.filter(pk=tap.pk).update(
        valid_from=tap.valid_from + moved, expires_at=tap.expires_at + moved
    )


def events(world, action: str) -> list[Event]:
    return list(Event.objects.filter(tenant=world.tenant, action=action).order_by("seq"))


def reasons(world, action: str = "login.failed") -> list[str]:
    return [e.details.get("reason") for e in events(world, action)]


def secret_in_log(world, secret: str) -> bool:
    """Whether the pass appears anywhere in the tenant's event log."""
    rows = Event.objects.filter(tenant=world.tenant).values(
        "details", "target_label", "actor_label"
    )
    return any(secret in json.dumps(row, default=str) for row in rows)
