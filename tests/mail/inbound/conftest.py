"""Inbound mail helpers: well-formed messages, and what a tenant received (the listener is in
tests/conftest.py)."""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone

from keydesk.mail.models import InboundEmail


def mail(
    *,
    sender: str = "Carla Customer <carla@customer.test>",
    to: str = "support@acme.localhost",
    subject: str = "Printer on fire",
    body: str = "The printer on floor 3 is on fire.",
    message_id: str | None = None,
    headers: dict | None = None,
) -> EmailMessage:
    """A well-formed message; `message_id=""` leaves the header out."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    if message_id != "":
        message["Message-ID"] = message_id or make_msgid(domain="customer.test")
    message.set_content(body)
    for name, value in (headers or {}).items():
        message[name] = value  # after set_content, which would drop Content-* headers
    return message


def stored(world) -> list[InboundEmail]:
    """The tenant's received messages, oldest first."""
    return list(InboundEmail.objects.filter(tenant=world.tenant).order_by("pk"))
