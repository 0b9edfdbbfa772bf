"""Account › Security › Authentication methods › Temporary Access Pass: admins only, every bound checked."""

import re

import pytest

from keydesk.core.errors import ApplicationError, PermissionDenied
from keydesk.tap.models import TapPolicy
from keydesk.tap.services import ALPHABET, policy_for, tap_create, tap_policy_update
from tests.tap.helpers import enable, events

POLICY = "/account/security/tap"
DEFAULTS = {
    "min_lifetime_minutes": 60,
    "max_lifetime_minutes": 480,
    "default_lifetime_minutes": 60,
    "length": 8,
}
THIRTY_DAYS = 30 * 24 * 60

# (changes, the field at fault); each is one step past a bound.
INVALID = [
    ({"min_lifetime_minutes": 9, "default_lifetime_minutes": 60}, "min_lifetime_minutes"),
    ({"min_lifetime_minutes": THIRTY_DAYS + 1}, "min_lifetime_minutes"),
    ({"min_lifetime_minutes": 10, "max_lifetime_minutes": 9}, "max_lifetime_minutes"),
    ({"max_lifetime_minutes": THIRTY_DAYS + 1}, "max_lifetime_minutes"),
    ({"min_lifetime_minutes": 10, "default_lifetime_minutes": 9}, "default_lifetime_minutes"),
    (
        {"max_lifetime_minutes": THIRTY_DAYS, "default_lifetime_minutes": THIRTY_DAYS + 1},
        "default_lifetime_minutes",
    ),
    ({"min_lifetime_minutes": 120, "max_lifetime_minutes": 119}, "max_lifetime_minutes"),
    ({"default_lifetime_minutes": 59}, "default_lifetime_minutes"),
    ({"default_lifetime_minutes": 481}, "default_lifetime_minutes"),
    ({"length": 7}, "length"),
    ({"length": 49}, "length"),
]
# Exactly on the bounds: accepted.
VALID = [
    {"min_lifetime_minutes": 10, "max_lifetime_minutes": 10, "default_lifetime_minutes": 10},
    {
        "min_lifetime_minutes": THIRTY_DAYS,
        "max_lifetime_minutes": THIRTY_DAYS,
        "default_lifetime_minutes": THIRTY_DAYS,
    },
    {"min_lifetime_minutes": 10, "max_lifetime_minutes": THIRTY_DAYS},
    {"min_lifetime_minutes": 30, "max_lifetime_minutes": 90, "default_lifetime_minutes": 90},
    {"length": 8},
    {"length": 48},
]


def _form(**changes) -> dict:
    data = {**DEFAULTS, **changes}
    return {k: ("on" if v is True else v) for k, v in data.items() if v is not False}


def test_the_policy_page_is_for_admins_only(acme):
    page = acme.client(acme.admin).get(POLICY)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Account › Security › Authentication methods › Temporary Access Pass" in text
    assert "Turning Temporary Access Pass off stops every pass from working at once" in text
    assert "The passes stay listed" in text
    assert "Every pass created after you save follows this policy" in text
    assert '<label for="id_enabled">Enable Temporary Access Pass</label>' in text
    for role in ("manager", "supervisor", "agent", "contact"):
        client = acme.client(getattr(acme, role))
        assert client.get(POLICY).status_code == 404
        assert client.post(POLICY, _form(enabled=True)).status_code == 404
    assert acme.client().get(POLICY)["Location"].startswith("/login?next=")
    assert not policy_for(acme.tenant).enabled
    assert events(acme, "tap.policy_changed") == []


def test_the_policy_page_is_in_the_security_menu(acme):
    page = acme.client(acme.admin).get(POLICY).content.decode()
    assert re.search(
        r'<a href="/account/security/tap" aria-current="page">Temporary Access Pass</a>', page
    )
    assert POLICY.encode() not in acme.client(acme.manager).get("/tickets/").content


def test_off_by_default_with_entra_defaults(acme):
    policy = policy_for(acme.tenant)
    assert not policy.enabled and not policy.one_time
    assert (policy.min_lifetime_minutes, policy.max_lifetime_minutes) == (60, 480)
    assert (policy.default_lifetime_minutes, policy.length) == (60, 8)
    page = acme.client(acme.admin).get(POLICY).content.decode()
    assert 'name="enabled"' in page and not re.search(r'name="enabled"[^>]*checked', page)
    assert 'name="max_lifetime_minutes" value="480"' in page


@pytest.mark.parametrize(("changes", "field"), INVALID)
def test_the_service_refuses_each_bound_crossed(acme, changes, field):
    with pytest.raises(ApplicationError) as refused:
        tap_policy_update(tenant=acme.tenant, actor=acme.admin, enabled=True, **changes)
    assert refused.value.field == field
    assert not TapPolicy.objects.filter(tenant=acme.tenant).exists()
    assert events(acme, "tap.policy_changed") == []


@pytest.mark.parametrize(("changes", "field"), INVALID)
def test_the_page_shows_the_error_on_the_field(acme, changes, field):
    page = acme.client(acme.admin).post(POLICY, _form(enabled=True, **changes))
    assert page.status_code == 200
    assert f'id="id_{field}_error"'.encode() in page.content
    assert not policy_for(acme.tenant).enabled
    assert events(acme, "tap.policy_changed") == []


@pytest.mark.parametrize("changes", VALID)
def test_exactly_on_the_bounds_is_accepted(acme, changes):
    policy = tap_policy_update(tenant=acme.tenant, actor=acme.admin, **{**DEFAULTS, **changes})
    for key, value in changes.items():
        assert getattr(policy, key) == value


@pytest.mark.parametrize("changes", VALID)
def test_exactly_on_the_bounds_is_accepted_on_the_page(acme, changes):
    response = acme.client(acme.admin).post(POLICY, _form(enabled=True, **changes))
    assert response.status_code == 302 and response["Location"] == POLICY
    policy = policy_for(acme.tenant)
    assert policy.enabled
    for key, value in changes.items():
        assert getattr(policy, key) == value


def test_only_admins_may_change_it_through_the_service(acme):
    for role in ("manager", "agent", "contact"):
        with pytest.raises(PermissionDenied):
            tap_policy_update(tenant=acme.tenant, actor=getattr(acme, role), enabled=True)
    with pytest.raises(ApplicationError):
        tap_policy_update(tenant=acme.tenant, actor=acme.admin, lifetime=5)


def test_saving_records_the_changes_once(acme, globex):
    client = acme.client(acme.admin)
    response = client.post(POLICY, _form(enabled=True, one_time=True, length=12))
    assert response["Location"] == POLICY
    assert "Temporary Access Pass saved." in client.get(POLICY).content.decode()
    [event] = events(acme, "tap.policy_changed")
    assert event.actor_id == acme.admin.pk
    assert event.details["changes"] == {
        "enabled": [False, True],
        "one_time": [False, True],
        "length": [8, 12],
    }
    client.post(POLICY, _form(enabled=True, one_time=True, length=12))
    assert len(events(acme, "tap.policy_changed")) == 1  # nothing changed, nothing recorded
    assert not policy_for(globex.tenant).enabled
    page = client.get(POLICY).content.decode()
    assert re.search(r'name="enabled"[^>]*checked', page)


def test_every_pass_created_afterwards_follows_the_policy(acme):
    enable(acme, length=48, one_time=True, min_lifetime_minutes=10, default_lifetime_minutes=15)
    tap, secret = tap_create(user=acme.agent, actor=acme.admin, one_time=False)
    assert len(secret) == 48 and set(secret) <= set(ALPHABET)
    assert tap.one_time
    assert (tap.expires_at - tap.valid_from).total_seconds() == 15 * 60
    with pytest.raises(ApplicationError) as refused:
        tap_create(user=acme.agent, actor=acme.admin, lifetime_minutes=481)
    assert refused.value.field == "lifetime_minutes"
    with pytest.raises(ApplicationError) as refused:
        tap_create(user=acme.agent, actor=acme.admin, lifetime_minutes=9)
    assert refused.value.field == "lifetime_minutes"


def test_the_alphabet_has_no_look_alikes():
    assert not set(ALPHABET) & set("0O1lI5S8B2Zo")
    assert len(set(ALPHABET)) == len(ALPHABET)
