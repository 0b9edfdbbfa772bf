"""Account › Security pages: admins only, validated, every change an event."""

import pytest

from keydesk.accounts.lockout import protection_for
from keydesk.accounts.passwords import policy_for
from keydesk.accounts.sessions import session_policy_for
from keydesk.eventlog.models import Event

PAGES = [
    "/account/security/password-policy",
    "/account/security/sign-in-protection",
    "/account/security/sessions",
]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", ["manager", "supervisor", "agent", "contact"])
def test_only_admins_reach_security_settings(acme, path, role):
    assert acme.client(acme.people[role]).get(path).status_code == 404


@pytest.mark.parametrize("path", PAGES)
def test_admin_sees_each_page(acme, path):
    response = acme.client(acme.admin).get(path)
    assert response.status_code == 200
    assert b"Account \xe2\x80\xba Security" in response.content


def _form_data(client, path):
    """The page's current values, as a browser would submit them unchanged."""
    form = client.get(path).context["form"]
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    return data


def test_password_policy_page_saves_and_forces_change(acme):
    client = acme.client(acme.admin)
    path = PAGES[0]
    data = _form_data(client, path) | {"min_length": 7}
    response = client.post(path, data)
    assert b"The minimum length cannot be below 8." in response.content
    data |= {"min_length": 14, "require_digit": "on", "force_change_all": "on"}
    assert client.post(path, data).status_code == 302
    policy = policy_for(acme.tenant)
    assert (policy.min_length, policy.require_digit) == (14, True)
    acme.agent.refresh_from_db()
    assert acme.agent.must_change_password


def test_sign_in_protection_page(acme):
    client = acme.client(acme.admin)
    path = PAGES[1]
    data = _form_data(client, path)
    bad = client.post(path, data | {"max_failures": 1})
    assert b"from 3 to 100" in bad.content
    capped = client.post(path, data | {"lock_minutes": 60, "max_lock_minutes": 30})
    assert b"cannot be below the first lock time" in capped.content
    assert client.post(path, data | {"max_failures": 8}).status_code == 302
    assert protection_for(acme.tenant).max_failures == 8
    event = Event.objects.filter(tenant=acme.tenant, action="security.settings_updated").get()
    assert event.details["changes"] == {"max_failures": [5, 8]}


def test_sessions_page_and_self_registration_toggle(acme, globex):
    client = acme.client(acme.admin)
    path = PAGES[2]
    data = _form_data(client, path) | {"staff_idle_minutes": 60, "self_registration": "on"}
    assert client.post(path, data).status_code == 302
    assert session_policy_for(acme.tenant).staff_idle_minutes == 60
    acme.tenant.refresh_from_db()
    assert acme.tenant.self_registration
    globex.tenant.refresh_from_db()
    assert not globex.tenant.self_registration
