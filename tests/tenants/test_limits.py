"""A new account's creation limits: exact daily caps on every path, 429s, the alert, lifting."""

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keydesk.accounts.models import User
from keydesk.accounts.services import user_create
from keydesk.eventlog.models import Event
from keydesk.tenants.limits import (
    CreationLimitReached,
    creation_take,
    limits_status,
    tenant_lift_limits,
)
from keydesk.tenants.models import CreationCount, Tenant
from keydesk.tenants.services import tenant_create
from keydesk.tickets.models import Ticket
from keydesk.tickets.services import ticket_create
from tests.test_cli import run

CAP = 3
ALERT = b"User and ticket creation is limited"


@pytest.fixture
def limits(settings, acme, globex):
    """Limits on, with small caps, after both tenants were set up (their people do not count)."""
    settings.NEW_ACCOUNT_DAYS = 30
    settings.NEW_ACCOUNT_USERS_PER_DAY = CAP
    settings.NEW_ACCOUNT_TICKETS_PER_DAY = CAP
    return settings


def _next_midnight() -> datetime:
    return datetime.combine(timezone.now().astimezone(UTC).date() + timedelta(days=1), time(), UTC)


def _events(world, action: str):
    return list(Event.objects.filter(tenant=world.tenant, action=action).order_by("seq"))


def _users(world) -> int:
    return User.objects.filter(tenant=world.tenant).count()


def _tickets(world) -> int:
    return Ticket.objects.filter(tenant=world.tenant).count()


def _used(world, kind: str) -> int:
    return limits_status(tenant=Tenant.objects.get(pk=world.tenant.pk)).of(kind).used_today


# Users


def test_staff_add_exactly_the_cap_of_people_on_the_web(acme, limits):
    client = acme.client(acme.admin)
    before = _users(acme)
    for i in range(CAP):
        response = client.post("/account/contacts/new", {"email": f"c{i}@example.com"})
        assert response.status_code == 302
    response = client.post("/account/contacts/new", {"email": "one-too-many@example.com"})
    assert response.status_code == 200
    assert b"New helpdesks may add at most 3 users a day" in response.content
    assert b'role="alert"' in response.content
    assert _users(acme) == before + CAP
    assert not User.objects.filter(email="one-too-many@example.com").exists()
    [refused] = _events(acme, "tenant.limited_refused")
    assert refused.actor_id == acme.admin.pk
    assert refused.details == {
        "kind": "user",
        "cap": CAP,
        "resets_at": _next_midnight().isoformat(),
    }


def test_api_answers_429_problem_with_retry_after(acme, limits):
    api = acme.api(acme.admin)
    for i in range(CAP):
        response = api.post(
            "/api/v1/users",
            {"email": f"a{i}@example.com", "kind": "contact"},
            content_type="application/json",
        )
        assert response.status_code == 201
    response = api.post(
        "/api/v1/users", {"email": "late@example.com", "kind": "contact"}, "application/json"
    )
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    midnight = _next_midnight()
    assert body["code"] == "creation_limited"
    assert body["title"] == "Too Many Requests"
    assert midnight.strftime("%Y-%m-%d 00:00 UTC") in body["detail"]
    assert datetime.fromisoformat(body["resets_at"]) == midnight
    retry_after = int(response["Retry-After"])
    expected = (midnight - timezone.now()).total_seconds()
    assert expected - 5 <= retry_after <= expected + 5
    assert not User.objects.filter(email="late@example.com").exists()
    assert len(_events(acme, "tenant.limited_refused")) == 1


def test_command_line_counts_too_and_refuses_in_one_line(acme, limits, capsys):
    for i in range(CAP):
        code, out, err = run(
            capsys,
            "user",
            "create",
            "--tenant",
            "acme",
            "--email",
            f"u{i}@x.test",
            "--kind",
            "staff",
            "--role",
            "agent",
        )
        assert (code, err) == (0, "")
    code, out, err = run(
        capsys, "user", "create", "--tenant", "acme", "--email", "u9@x.test", "--kind", "contact"
    )
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("keydesk: New helpdesks may add at most 3 users a day")
    assert "Traceback" not in err
    assert len(_events(acme, "tenant.limited_refused")) == 1


def test_self_registration_is_capped_and_tells_nobody_who_is_registered(acme, limits):
    Tenant.objects.filter(pk=acme.tenant.pk).update(self_registration=True)
    form = {"name": "N", "new_password": "a fine long passphrase"}
    form["confirm_password"] = form["new_password"]
    for i in range(CAP):
        response = acme.client().post("/register", form | {"email": f"r{i}@example.com"})
        assert b"Check your email" in response.content
    fresh = acme.client().post("/register", form | {"email": "fresh@example.com"})
    known = acme.client().post("/register", form | {"email": "contact@acme.test"})
    assert fresh.status_code == known.status_code == 200
    for response in (fresh, known):
        assert b"New helpdesks may add at most 3 users a day" in response.content
    assert not User.objects.filter(email="fresh@example.com").exists()
    assert len(_events(acme, "tenant.limited_refused")) == 2


def test_a_failed_creation_gives_its_unit_back(acme, limits):
    with pytest.raises(Exception, match="already exists"):
        user_create(tenant=acme.tenant, actor=None, email="agent@acme.test", kind="contact")
    assert _used(acme, "user") == 0
    for i in range(CAP):
        user_create(tenant=acme.tenant, actor=None, email=f"x{i}@example.com", kind="contact")
    assert _used(acme, "user") == CAP


def test_the_first_admin_comes_with_the_account(db, settings):
    settings.NEW_ACCOUNT_DAYS = 30
    settings.NEW_ACCOUNT_USERS_PER_DAY = 0
    tenant, admin, _ = tenant_create(slug="fresh", name="Fresh", admin_email="boss@fresh.test")
    status = limits_status(tenant=tenant)
    assert status.limited and status.user.used_today == 0 and status.user.remaining == 0
    with pytest.raises(CreationLimitReached):
        user_create(tenant=tenant, actor=admin, email="second@fresh.test", kind="contact")


# Tickets


def _web_ticket(world, n):
    return world.client(world.agent).post(
        "/tickets/new",
        {"subject": f"web {n}", "requester_email": "contact@acme.test", "priority": "normal"},
    )


def _portal_ticket(world, n):
    return world.client(world.contact).post("/portal/new", {"subject": f"portal {n}"})


@pytest.mark.parametrize("open_ticket", [_web_ticket, _portal_ticket], ids=["agent", "portal"])
def test_tickets_are_capped_exactly_on_the_web(acme, limits, open_ticket):
    for n in range(CAP):
        assert open_ticket(acme, n).status_code == 302
    response = open_ticket(acme, "late")
    assert response.status_code == 200
    assert b"New helpdesks may open at most 3 tickets a day" in response.content
    assert _tickets(acme) == CAP
    [refused] = _events(acme, "tenant.limited_refused")
    assert refused.details["kind"] == "ticket"


def test_tickets_are_capped_exactly_in_the_api(acme, limits):
    api = acme.api(acme.contact)
    for n in range(CAP):
        response = api.post("/api/v1/tickets", {"subject": f"api {n}"}, "application/json")
        assert response.status_code == 201
    response = api.post("/api/v1/tickets", {"subject": "late"}, "application/json")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert int(response["Retry-After"]) >= 1
    assert "tickets a day" in response.json()["detail"]
    assert _tickets(acme) == CAP


def test_all_paths_share_one_daily_count(acme, limits):
    assert _web_ticket(acme, 1).status_code == 302
    assert _portal_ticket(acme, 2).status_code == 302
    api = acme.api(acme.agent)
    payload = {"subject": "api", "requester_email": "contact@acme.test"}
    assert api.post("/api/v1/tickets", payload, "application/json").status_code == 201
    assert api.post("/api/v1/tickets", payload, "application/json").status_code == 429
    assert _used(acme, "ticket") == CAP


def test_a_ticket_for_a_new_requester_needs_a_user_unit_too(acme, limits):
    for i in range(CAP):
        user_create(tenant=acme.tenant, actor=None, email=f"x{i}@example.com", kind="contact")
    response = acme.client(acme.agent).post(
        "/tickets/new",
        {"subject": "Hello", "requester_email": "stranger@example.com", "priority": "normal"},
    )
    assert b"New helpdesks may add at most 3 users a day" in response.content
    # The ticket's unit went back with the refused requester.
    assert (_tickets(acme), _used(acme, "ticket")) == (0, 0)
    assert _web_ticket(acme, 1).status_code == 302


def test_tenants_are_limited_independently(acme, globex, limits):
    for n in range(CAP):
        ticket_create(tenant=acme.tenant, actor=acme.contact, subject=f"a{n}")
    with pytest.raises(CreationLimitReached):
        ticket_create(tenant=acme.tenant, actor=acme.contact, subject="late")
    assert _portal_ticket(globex, 1).status_code == 302
    assert _used(globex, "ticket") == 1
    assert _events(globex, "tenant.limited_refused") == []


def test_a_new_utc_day_starts_a_new_count(acme, limits):
    yesterday = timezone.now().astimezone(UTC).date() - timedelta(days=1)
    CreationCount.objects.create(tenant=acme.tenant, day=yesterday, kind="ticket", count=CAP)
    status = limits_status(tenant=acme.tenant)
    assert (status.ticket.used_today, status.ticket.remaining) == (0, CAP)
    assert status.resets_at == _next_midnight()
    for n in range(CAP):
        ticket_create(tenant=acme.tenant, actor=acme.contact, subject=f"t{n}")
    assert CreationCount.objects.get(tenant=acme.tenant, day=yesterday).count == CAP


def test_limits_end_after_the_window(acme, limits):
    Tenant.objects.filter(pk=acme.tenant.pk).update(
        created_at=timezone.now() - timedelta(days=30, minutes=1)
    )
    for n in range(CAP + 2):
        assert _portal_ticket(acme, n).status_code == 302
    assert not limits_status(tenant=Tenant.objects.get(pk=acme.tenant.pk)).limited
    assert ALERT not in acme.client(acme.admin).get("/tickets/").content


def test_the_last_day_resets_when_the_window_ends(acme, limits):
    ends = timezone.now() + timedelta(minutes=10)
    if ends.astimezone(UTC).date() != timezone.now().astimezone(UTC).date():
        pytest.skip("the window would end after midnight")
    Tenant.objects.filter(pk=acme.tenant.pk).update(created_at=ends - timedelta(days=30))
    status = limits_status(tenant=Tenant.objects.get(pk=acme.tenant.pk))
    assert status.until == status.resets_at
    assert abs((status.resets_at - ends).total_seconds()) < 1


@pytest.mark.django_db(transaction=True)
def test_creation_take_needs_the_creating_transaction(settings):
    tenant, _, _ = tenant_create(slug="bare", name="Bare", admin_email="boss@bare.test")
    settings.NEW_ACCOUNT_DAYS = 30
    # Outside a transaction a unit would be taken for good, whatever became of the creation.
    with pytest.raises(RuntimeError):
        creation_take(tenant=tenant, kind="ticket")
    with transaction.atomic(), pytest.raises(ValueError):
        creation_take(tenant=tenant, kind="team")
    assert not CreationCount.objects.filter(tenant=tenant).exists()


# Lifting


def test_lift_limits_command(acme, globex, limits, capsys):
    code, out, err = run(capsys, "tenant", "lift-limits", "nosuch")
    assert (code, out) == (2, "")
    assert err == "keydesk: unknown tenant 'nosuch'\n"

    code, out, err = run(capsys, "tenant", "lift-limits", "acme")
    assert (code, err) == (0, "")
    assert out == "Lifted the new-account creation limits of acme.\n"
    [lifted] = _events(acme, "tenant.limits_lifted")
    assert lifted.actor_id is None

    code, out, err = run(capsys, "tenant", "lift-limits", "acme")
    assert (code, out, err) == (0, "acme has no creation limits to lift.\n", "")
    assert len(_events(acme, "tenant.limits_lifted")) == 1

    # The tenant object loaded before the lift is re-read, so the lift holds at once.
    for n in range(CAP + 2):
        ticket_create(tenant=acme.tenant, actor=acme.contact, subject=f"t{n}")
    assert ALERT not in acme.client(acme.admin).get("/tickets/").content
    assert ALERT in globex.client(globex.admin).get("/tickets/").content
    assert _events(globex, "tenant.limits_lifted") == []


def test_lifting_an_old_tenant_changes_nothing(acme, limits):
    Tenant.objects.filter(pk=acme.tenant.pk).update(created_at=timezone.now() - timedelta(days=31))
    assert tenant_lift_limits(tenant=Tenant.objects.get(pk=acme.tenant.pk)) is False
    assert Tenant.objects.get(pk=acme.tenant.pk).limits_lifted_at is None
    assert _events(acme, "tenant.limits_lifted") == []


def test_operators_lift_limits_in_the_console(acme, limits, client):
    operator = User.objects.create_superuser("ops", "ops@example.com", "an operator passphrase")
    client.force_login(operator, backend="keydesk.accounts.backends.OperatorBackend")
    response = client.post(
        "/ops/tenants/tenant/",
        {"action": "lift_limits", "_selected_action": [acme.tenant.pk]},
    )
    assert response.status_code == 302
    assert Tenant.objects.get(pk=acme.tenant.pk).limits_lifted_at is not None
    [lifted] = _events(acme, "tenant.limits_lifted")
    assert lifted.details == {"operator": "ops"}


# The alert and the limits page


def test_every_staff_page_shows_the_alert_linking_to_the_limits(acme, limits):
    for person, url in ((acme.admin, "/account/agents/"), (acme.agent, "/tickets/")):
        html = acme.client(person).get(url).content
        assert ALERT in html
        assert b'href="/account/limits"' in html
    assert ALERT not in acme.client(acme.contact).get("/portal/").content
    assert ALERT not in acme.client().get("/login").content


def test_the_alert_costs_no_query(acme, limits, settings):
    client = acme.client(acme.agent)
    client.get("/tickets/")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/tickets/")
        return len(captured), response

    limited, response = queries()
    assert ALERT in response.content
    settings.NEW_ACCOUNT_DAYS = 0
    free, response = queries()
    assert ALERT not in response.content
    assert limited == free


def test_the_limits_page_says_what_is_left_today(acme, globex, limits):
    ticket_create(tenant=acme.tenant, actor=acme.contact, subject="one")
    user_create(tenant=acme.tenant, actor=None, email="n@example.com", kind="contact")
    user_create(tenant=acme.tenant, actor=None, email="m@example.com", kind="contact")
    response = acme.client(acme.agent).get("/account/limits")
    assert response.status_code == 200
    html = response.content.decode()
    until = (acme.tenant.created_at + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    assert f"{until} UTC" in html
    assert '<tr><th scope="row">Users</th><td>2</td><td>3</td><td><strong>1</strong>' in html
    assert '<tr><th scope="row">Tickets</th><td>1</td><td>3</td><td><strong>2</strong>' in html
    assert _next_midnight().strftime("%Y-%m-%d 00:00 UTC") in html
    # The other tenant's counts are its own.
    other = globex.client(globex.agent).get("/account/limits").content.decode()
    assert "<td>0</td><td>3</td><td><strong>3</strong>" in other
    assert acme.client(acme.contact).get("/account/limits").status_code == 404
    assert acme.client().get("/account/limits").status_code == 302


def test_the_limits_page_after_a_lift(acme, limits):
    tenant_lift_limits(tenant=acme.tenant)
    response = acme.client(acme.admin).get("/account/limits")
    assert b"Your helpdesk has no creation limits" in response.content
    assert ALERT not in response.content


# Exact under concurrency


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_tickets_with_a_cap_of_five_give_exactly_five(settings):
    from tests.conftest import TenantWorld

    world = TenantWorld("rush")
    settings.NEW_ACCOUNT_DAYS = 30
    settings.NEW_ACCOUNT_TICKETS_PER_DAY = 5
    barrier = threading.Barrier(20)
    created, refused, errors = [], [], []

    def open_ticket(n):
        try:
            barrier.wait()
            created.append(ticket_create(tenant=world.tenant, actor=world.contact, subject=f"{n}"))
        except CreationLimitReached:
            refused.append(n)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_ticket, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert (len(created), len(refused)) == (5, 15)
    assert Ticket.objects.filter(tenant=world.tenant).count() == 5
    assert sorted(t.number for t in created) == [1, 2, 3, 4, 5]
    assert CreationCount.objects.get(tenant=world.tenant, kind="ticket").count == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_tickets_for_new_requesters_stop_at_the_user_cap(settings):
    from tests.conftest import TenantWorld

    world = TenantWorld("crowd")
    settings.NEW_ACCOUNT_DAYS = 30
    settings.NEW_ACCOUNT_USERS_PER_DAY = 5
    barrier = threading.Barrier(12)
    refused, errors = [], []

    def open_ticket(n):
        try:
            barrier.wait()
            ticket_create(
                tenant=world.tenant,
                actor=world.agent,
                subject=f"{n}",
                requester_email=f"new{n}@example.com",
            )
        except CreationLimitReached as exc:
            refused.append(exc.kind)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_ticket, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert refused == ["user"] * 7
    assert Ticket.objects.filter(tenant=world.tenant).count() == 5
    assert User.objects.filter(tenant=world.tenant, email__startswith="new").count() == 5
    # Each refused ticket gave its ticket unit back.
    assert CreationCount.objects.get(tenant=world.tenant, kind="ticket").count == 5
