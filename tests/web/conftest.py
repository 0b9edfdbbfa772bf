"""Helpers for the page tests: tickets made through the services, events read back."""

import pytest

from keydesk.eventlog.models import Event
from keydesk.tickets.services import ticket_create


def make_ticket(world, *, requester=None, subject="Printer on fire", **kwargs):
    """A ticket of `world` opened by a contact (the world's contact unless named)."""
    return ticket_create(
        tenant=world.tenant, actor=requester or world.contact, subject=subject, **kwargs
    )


def events_of(world, action: str):
    return Event.objects.filter(tenant=world.tenant, action=action).order_by("seq")


@pytest.fixture
def ticket(acme):
    return make_ticket(acme, description="It smells of toner.")
