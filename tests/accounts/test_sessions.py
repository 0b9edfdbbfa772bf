"""Sessions: idle and absolute limits per audience, listing and revoking, new-device alerts."""

import time

from keydesk.accounts.models import KnownDevice, SessionPolicy, SignInSession
from keydesk.accounts.security_settings import session_policy_update
from keydesk.accounts.sessions import DEVICE_COOKIE, describe_user_agent
from keydesk.eventlog.models import Event
from keydesk.mail.models import OutboundEmail
from tests.conftest import PASSWORD

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _signed_in(world, email="agent@acme.test", **headers):
    client = world.client()
    client.defaults.update(headers)
    response = client.post("/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _age_session(client, *, auth_ago=0, seen_ago=0):
    session = client.session
    now = int(time.time())
    session["auth_time"] = now - auth_ago
    session["last_seen"] = now - seen_ago
    session.save()


def test_idle_session_ends(acme):
    client = _signed_in(acme)
    _age_session(client, seen_ago=8 * 3600 + 60)
    assert client.get("/tickets/")["Location"].startswith("/login")
    ended = SignInSession.objects.get(user=acme.agent)
    assert ended.end_reason == "idle"
    assert Event.objects.filter(tenant=acme.tenant, action="session.ended").exists()


def test_absolute_lifetime_ends_an_active_session(acme):
    client = _signed_in(acme)
    _age_session(client, auth_ago=31 * 86400, seen_ago=10)
    assert client.get("/tickets/")["Location"].startswith("/login")


def test_limits_differ_for_staff_and_contacts(acme):
    session_policy_update(tenant=acme.tenant, actor=acme.admin, contact_idle_minutes=10)
    staff = _signed_in(acme)
    contact = _signed_in(acme, email="contact@acme.test")
    for client in (staff, contact):
        _age_session(client, seen_ago=11 * 60)
    assert staff.get("/tickets/").status_code == 200
    assert contact.get("/portal/")["Location"].startswith("/login")


def test_activity_keeps_a_session_alive(acme):
    client = _signed_in(acme)
    _age_session(client, seen_ago=7 * 3600)
    assert client.get("/tickets/").status_code == 200
    assert time.time() - client.session["last_seen"] < 5


def test_people_list_and_revoke_their_sessions(acme, globex):
    first = _signed_in(acme, HTTP_USER_AGENT=FIREFOX)
    second = _signed_in(acme)
    third = _signed_in(acme)
    page = first.get("/preferences/sessions/")
    assert page.status_code == 200
    assert b"Firefox on Windows" in page.content and b"This session" in page.content
    other = SignInSession.objects.get(session_key=second.session.session_key)
    assert first.post(f"/preferences/sessions/{other.pk}/revoke").status_code == 302
    assert second.get("/tickets/")["Location"].startswith("/login")
    assert third.get("/tickets/").status_code == 200
    first.post("/preferences/sessions/revoke-others")
    assert third.get("/tickets/")["Location"].startswith("/login")
    assert first.get("/tickets/").status_code == 200
    # Another person's or another tenant's session id is not found.
    admin_session = SignInSession.objects.get(
        session_key=_signed_in(acme, "admin@acme.test").session.session_key
    )
    assert first.post(f"/preferences/sessions/{admin_session.pk}/revoke").status_code == 404
    g = _signed_in(globex, "agent@globex.test")
    g_session = SignInSession.objects.get(session_key=g.session.session_key)
    assert first.post(f"/preferences/sessions/{g_session.pk}/revoke").status_code == 404


def test_admin_signs_a_person_out_everywhere(acme):
    client = _signed_in(acme)
    admin = acme.client(acme.admin)
    assert admin.post(f"/account/people/{acme.agent.pk}/sign-out").status_code == 302
    assert client.get("/tickets/")["Location"].startswith("/login")
    assert (
        acme.client(acme.agent).post(f"/account/people/{acme.admin.pk}/sign-out").status_code == 404
    )


def test_new_device_alert(acme):
    first = _signed_in(acme)
    device = first.cookies[DEVICE_COOKIE].value
    assert first.cookies[DEVICE_COOKIE]["httponly"]
    # The first sign-in ever sends no alert; the same browser again neither.
    again = acme.client()
    again.cookies[DEVICE_COOKIE] = device
    again.post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    assert not OutboundEmail.objects.filter(template="new_device").exists()
    # A new browser does.
    _signed_in(acme, HTTP_USER_AGENT=FIREFOX)
    alert = OutboundEmail.objects.get(template="new_device")
    assert alert.recipient == "agent@acme.test"
    assert KnownDevice.objects.filter(user=acme.agent).count() == 2
    assert Event.objects.filter(tenant=acme.tenant, action="login.new_device").count() == 1


def test_new_device_alerts_can_be_switched_off(acme):
    SessionPolicy.objects.create(tenant=acme.tenant, new_device_alerts=False)
    _signed_in(acme)
    _signed_in(acme)
    assert not OutboundEmail.objects.filter(template="new_device").exists()


def test_describe_user_agent():
    assert describe_user_agent(FIREFOX) == "Firefox on Windows"
    assert describe_user_agent("") == "Unknown browser on unknown system"
