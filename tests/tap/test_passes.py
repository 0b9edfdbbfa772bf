"""The "Authentication" tab of a profile: who may add and delete passes, shown once, listed without it."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.utils import timezone

from keydesk.accounts.services import user_update
from keydesk.core.errors import PermissionDenied
from keydesk.tap.models import TemporaryAccessPass
from keydesk.tap.services import (
    ALPHABET,
    may_create_pass_for,
    tap_create,
    tap_delete,
    tap_policy_update,
)
from tests.tap.helpers import enable, events, make_pass, secret_in_log

WARNING = "The pass cannot be viewed again after you leave this page."


def tab(person) -> str:
    return f"/account/people/{person.pk}/authentication"


def new(person) -> str:
    return f"{tab(person)}/tap/new"


def delete(person) -> str:
    return f"{tab(person)}/tap/delete"


def shown_pass(page) -> str:
    return re.search(r'id="new-pass"[^>]*value="([^"]+)"', page.content.decode()).group(1)


# Who may manage whose pass: docs/permissions.md

ALLOWED = [
    ("admin", "manager"),
    ("admin", "supervisor"),
    ("admin", "agent"),
    ("admin", "contact"),
    ("manager", "supervisor"),
    ("manager", "agent"),
    ("manager", "contact"),
]
REFUSED = [
    ("admin", "admin"),
    ("manager", "manager"),
    ("manager", "admin"),
    ("supervisor", "agent"),
    ("supervisor", "contact"),
    ("agent", "agent"),
    ("agent", "contact"),
    ("contact", "other_contact"),
    ("contact", "contact"),
]


@pytest.mark.parametrize(("actor", "target"), ALLOWED)
def test_admins_and_managers_reach_the_tab_of_whom_they_manage(acme, actor, target):
    enable(acme)
    client = acme.client(getattr(acme, actor))
    person = getattr(acme, target)
    page = client.get(tab(person))
    assert page.status_code == 200
    assert "Temporary Access Pass" in page.content.decode()
    assert client.get(new(person)).status_code == 200
    created = client.post(new(person), {})
    assert created.status_code == 200 and WARNING in created.content.decode()
    assert TemporaryAccessPass.objects.filter(user=person).exists()
    assert may_create_pass_for(getattr(acme, actor), person)


@pytest.mark.parametrize(("actor", "target"), REFUSED)
def test_nobody_else_and_nobody_for_themselves(acme, actor, target):
    enable(acme)
    actor, person = getattr(acme, actor), getattr(acme, target)
    if person != acme.admin:
        make_pass(acme, person)
    client = acme.client(actor)
    for url in (tab(person), new(person), delete(person)):
        assert client.get(url).status_code == 404
    assert client.post(new(person), {}).status_code == 404
    assert client.post(delete(person)).status_code == 404
    assert not may_create_pass_for(actor, person)
    with pytest.raises(PermissionDenied):
        tap_create(user=person, actor=actor)
    with pytest.raises(PermissionDenied):
        tap_delete(user=person, actor=actor)
    made = int(person != acme.admin)
    assert TemporaryAccessPass.objects.filter(user=person).count() == made
    assert (len(events(acme, "tap.created")), events(acme, "tap.deleted")) == (made, [])


def test_another_tenants_people_are_not_found(acme, globex):
    enable(acme)
    enable(globex)
    make_pass(globex, globex.agent)
    client = acme.client(acme.admin)
    for url in (tab(globex.agent), new(globex.agent), delete(globex.agent)):
        assert client.get(url).status_code == 404
    assert client.post(new(globex.agent), {}).status_code == 404
    assert client.post(delete(globex.agent)).status_code == 404
    assert TemporaryAccessPass.objects.filter(user=globex.agent).count() == 1
    assert not may_create_pass_for(acme.admin, globex.agent)
    assert acme.client().get(tab(acme.agent))["Location"].startswith("/login?next=")


def test_the_profile_links_to_the_tab_but_not_on_ones_own(acme):
    url = tab(acme.agent).encode()
    assert url in acme.client(acme.admin).get(f"/account/agents/{acme.agent.pk}/").content
    assert url in acme.client(acme.manager).get(f"/account/agents/{acme.agent.pk}/").content
    contact = acme.client(acme.manager).get(f"/account/contacts/{acme.contact.pk}/")
    assert tab(acme.contact).encode() in contact.content
    own = acme.client(acme.admin).get(f"/account/agents/{acme.admin.pk}/").content
    assert tab(acme.admin).encode() not in own and b">Authentication<" not in own
    # The 2FA tab (admins) points to it too.
    assert url in acme.client(acme.admin).get(f"/account/people/{acme.agent.pk}/2fa").content


def test_add_shows_the_pass_once_and_stores_only_a_hash(acme):
    enable(acme)
    client = acme.client(acme.admin)
    form = client.get(new(acme.agent)).content.decode()
    assert re.search(r'name="lifetime_minutes" value="60"', form)
    assert "From 60 to 480 minutes." in form
    page = client.post(new(acme.agent), {"lifetime_minutes": "90"})
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    text = page.content.decode()
    assert WARNING in text
    assert re.search(r'<button type="button"[^>]*data-copy="new-pass"[^>]*>Copy</button>', text)
    secret = shown_pass(page)
    assert len(secret) == 8 and set(secret) <= set(ALPHABET)
    tap = TemporaryAccessPass.objects.get(user=acme.agent)
    assert secret not in tap.pass_hash and check_password(secret, tap.pass_hash)
    assert tap.created_by == acme.admin and not tap.one_time
    assert tap.expires_at - tap.valid_from == timedelta(minutes=90)
    listed = client.get(tab(acme.agent)).content.decode()
    assert secret not in listed
    assert "Active" in listed and "Administrator" in listed
    assert tap.expires_at.strftime("%Y-%m-%d %H:%M") in listed


def test_tap_created_says_who_for_whom_and_when_but_never_the_pass(acme):
    enable(acme)
    start = timezone.now() + timedelta(hours=2)
    _, secret = make_pass(acme, acme.agent, valid_from=start, lifetime_minutes=120)
    [event] = events(acme, "tap.created")
    assert event.actor_id == acme.admin.pk
    assert (event.target_type, event.target_id) == ("user", str(acme.agent.pk))
    assert event.details == {
        "valid_from": start.isoformat(),
        "lifetime_minutes": 120,
        "one_time": False,
    }
    assert secret not in json.dumps(event.details) and not secret_in_log(acme, secret)


def test_a_new_pass_replaces_the_old(acme):
    enable(acme)
    first, _ = make_pass(acme, acme.agent)
    client = acme.client(acme.manager)
    assert (
        "already has a pass: the new one replaces it"
        in client.get(new(acme.agent)).content.decode()
    )
    client.post(new(acme.agent), {})
    [second] = TemporaryAccessPass.objects.filter(user=acme.agent)
    assert second.pk != first.pk and second.created_by == acme.manager


def test_a_start_time_in_the_future_is_not_yet_valid(acme):
    enable(acme)
    start = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    client = acme.client(acme.admin)
    client.post(new(acme.agent), {"valid_from": start.strftime("%Y-%m-%dT%H:%M")})
    tap = TemporaryAccessPass.objects.get(user=acme.agent)
    assert tap.valid_from == start and tap.expires_at == start + timedelta(hours=1)
    assert "Not yet valid" in client.get(tab(acme.agent)).content.decode()


def test_the_form_refuses_what_the_policy_does_not_allow(acme):
    enable(acme)
    client = acme.client(acme.admin)
    too_short = client.post(new(acme.agent), {"lifetime_minutes": "59"})
    assert b'id="id_lifetime_minutes_error"' in too_short.content
    assert b"The duration must be from 60 to 480 minutes." in too_short.content
    too_long = client.post(new(acme.agent), {"lifetime_minutes": "481"})
    assert b'id="id_lifetime_minutes_error"' in too_long.content
    past = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    in_the_past = client.post(new(acme.agent), {"valid_from": past})
    assert b"The start time cannot be in the past." in in_the_past.content
    assert not TemporaryAccessPass.objects.filter(user=acme.agent).exists()
    assert events(acme, "tap.created") == []


def test_one_time_is_forced_on_when_the_policy_says_so(acme):
    enable(acme, one_time=True)
    client = acme.client(acme.admin)
    form = client.get(new(acme.agent)).content.decode()
    assert re.search(
        r'<input type="checkbox" name="one_time"(?=[^>]*checked)(?=[^>]*disabled)', form
    )
    assert "The policy makes every pass one-time." in form
    client.post(new(acme.agent), {})  # a disabled box is never sent
    assert TemporaryAccessPass.objects.get(user=acme.agent).one_time
    enable(acme, one_time=False)
    client.post(new(acme.contact), {"one_time": "on"})
    client.post(new(acme.agent), {})
    assert TemporaryAccessPass.objects.get(user=acme.contact).one_time
    assert not TemporaryAccessPass.objects.get(user=acme.agent).one_time


def test_statuses_on_the_tab(acme):
    enable(acme)
    client = acme.client(acme.admin)
    tap, _ = make_pass(acme, acme.agent, one_time=True)
    assert "Active" in client.get(tab(acme.agent)).content.decode()
    TemporaryAccessPass.objects.filter(pk=tap.pk).update(used_at=timezone.now())
    page = client.get(tab(acme.agent)).content.decode()
    assert "Used" in page and "One-time</dt><dd>Yes, used" in page
    tap, _ = make_pass(acme, acme.agent)
    TemporaryAccessPass.objects.filter(pk=tap.pk).update(expires_at=timezone.now())
    page = client.get(tab(acme.agent)).content.decode()
    assert "Expired" in page and "deleted 30 days after they expire" in page


def test_with_tap_off_the_tab_says_so_and_the_pass_stays_listed(acme):
    enable(acme)
    make_pass(acme, acme.agent)
    tap_policy_update(tenant=acme.tenant, actor=acme.admin, enabled=False)
    admin = acme.client(acme.admin)
    page = admin.get(tab(acme.agent)).content.decode()
    assert "Temporary Access Pass is turned off for this helpdesk" in page
    assert 'href="/account/security/tap"' in page
    assert "Disabled by policy" in page and "Delete pass" in page
    assert "+ add pass" not in page
    manager_page = acme.client(acme.manager).get(tab(acme.agent)).content.decode()
    assert "turned off" in manager_page and 'href="/account/security/tap"' not in manager_page
    refused = admin.get(new(acme.agent), follow=True)
    assert "Temporary Access Pass is turned off" in refused.content.decode()
    admin.post(new(acme.agent), {})
    assert TemporaryAccessPass.objects.filter(user=acme.agent).count() == 1
    assert len(events(acme, "tap.created")) == 1


def test_delete_after_a_confirmation(acme):
    enable(acme)
    make_pass(acme, acme.contact)
    client = acme.client(acme.manager)
    assert "+ add pass" in client.get(tab(acme.contact)).content.decode()
    confirm = client.get(delete(acme.contact))
    assert confirm.status_code == 200 and b"stops working at once" in confirm.content
    assert TemporaryAccessPass.objects.filter(user=acme.contact).exists()
    response = client.post(delete(acme.contact))
    assert response["Location"] == tab(acme.contact)
    assert not TemporaryAccessPass.objects.filter(user=acme.contact).exists()
    [event] = events(acme, "tap.deleted")
    assert event.actor_id == acme.manager.pk and event.target_id == str(acme.contact.pk)
    page = client.get(tab(acme.contact)).content.decode()
    assert "was deleted" in page and "No Temporary Access Pass." in page
    client.post(delete(acme.contact))
    assert len(events(acme, "tap.deleted")) == 1  # nothing left to delete, nothing recorded


def test_the_guest_flag_is_shown(acme):
    enable(acme)
    client = acme.client(acme.admin)
    assert "This user is a guest" not in client.get(tab(acme.contact)).content.decode()
    user_update(user=acme.contact, actor=acme.admin, is_guest=True)
    assert "This user is a guest" in client.get(tab(acme.contact)).content.decode()
