"""Self-registration of contacts, when the tenant allows it.

The page answers the same whether or not the address is already registered; the owner of a
registered address gets a mail saying so (with the way to reset a forgotten password).
"""

from django.db import transaction
from django.urls import reverse

from keydesk.access.services import access_require
from keydesk.core.errors import ApplicationError, NotFound
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record
from keydesk.tenants.limits import creation_check
from keydesk.tenants.selectors import tenant_url

from .models import User
from .services import normalize_email, user_create, validate_new_password


def contact_register(*, tenant, email: str, name: str, password: str, request=None) -> None:
    """Create an unverified contact (the verification mail goes out), or tell the owner."""
    from keydesk.mail.services import email_queue

    if not tenant.self_registration:
        raise NotFound("page")
    email = normalize_email(email)
    validate_new_password(password, user=User(tenant=tenant, email=email, name=name))
    # Judged before looking the address up, so a refusal tells nothing about who is registered.
    access_require(
        tenant=tenant, action="register", request=request, email=email, audience="contacts"
    )
    existing = User.objects.filter(tenant=tenant, email=email).first()
    if existing is None:
        try:
            user_create(
                tenant=tenant,
                actor=None,
                email=email,
                kind=User.Kind.CONTACT,
                name=name,
                password=password,
                request=request,
            )
        except ApplicationError as exc:
            if exc.code != "email_taken":  # registered a moment ago by a concurrent request
                raise
        return
    # A new account's used-up limit refuses a registered address too, or the refusal would
    # tell who is registered.
    creation_check(tenant=tenant, kind="user", request=request)
    with transaction.atomic():
        email_queue(
            tenant=tenant,
            template="already_registered",
            to=existing,
            request=request,
            context={"reset_link": tenant_url(tenant, reverse("password_reset"), request)},
        )
        record(tenant, None, EventAction.REGISTRATION_REPEATED, existing, request)
