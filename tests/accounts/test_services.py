"""People, teams and tokens: role rules are enforced in the services, and every change is an event."""

import pytest

from keydesk.accounts.api_tokens import token_authenticate, token_create, token_revoke
from keydesk.accounts.models import ApiToken, Team, User
from keydesk.accounts.selectors import person_get, person_list, team_get, token_get
from keydesk.accounts.services import (
    team_create,
    user_create,
    user_deactivate,
    user_reactivate,
    user_update,
)
from keydesk.core.errors import ApplicationError, NotFound, PermissionDenied
from keydesk.eventlog.models import Event


def _last_event(tenant):
    return Event.objects.filter(tenant=tenant).order_by("-seq").first()


def test_admin_creates_staff_and_event_records_it(acme):
    user = user_create(
        tenant=acme.tenant,
        actor=acme.admin,
        email=" New@Acme.TEST ",
        kind="staff",
        role="agent",
        name="Nia",
    )
    assert user.email == "new@acme.test"
    assert not user.has_usable_password()
    event = _last_event(acme.tenant)
    assert (event.action, event.actor_id, event.target_id) == (
        "user.created",
        acme.admin.pk,
        str(user.pk),
    )


@pytest.mark.parametrize(
    "actor_role, kind, role, allowed",
    [
        ("manager", "staff", "agent", True),
        ("manager", "staff", "supervisor", True),
        ("manager", "staff", "admin", False),
        ("manager", "staff", "manager", False),
        ("manager", "contact", "", True),
        ("supervisor", "contact", "", False),
        ("agent", "staff", "agent", False),
        ("agent", "contact", "", False),
        ("contact", "contact", "", False),
        ("admin", "staff", "admin", True),
    ],
)
def test_who_may_create_whom(acme, actor_role, kind, role, allowed):
    actor = acme.people[actor_role]
    call = lambda: user_create(  # noqa: E731
        tenant=acme.tenant, actor=actor, email="x@acme.test", kind=kind, role=role
    )
    if allowed:
        assert call().kind == kind
    else:
        with pytest.raises(PermissionDenied):
            call()
        assert not User.objects.filter(email="x@acme.test").exists()


def test_email_is_unique_per_tenant_case_insensitively(acme, globex):
    with pytest.raises(ApplicationError) as exc:
        user_create(tenant=acme.tenant, actor=acme.admin, email="AGENT@acme.test", kind="contact")
    assert exc.value.field == "email" and exc.value.status == 409
    # The same address may exist in another tenant.
    user_create(tenant=globex.tenant, actor=None, email="agent@acme.test", kind="contact")


@pytest.mark.parametrize(
    "kind, role, field",
    [
        ("staff", "", "role"),
        ("staff", "boss", "role"),
        ("contact", "agent", "role"),
        ("robot", "", "kind"),
    ],
)
def test_kind_and_role_are_checked(acme, kind, role, field):
    with pytest.raises(ApplicationError) as exc:
        user_create(tenant=acme.tenant, actor=None, email="k@acme.test", kind=kind, role=role)
    assert exc.value.field == field


def test_weak_password_names_the_rules(acme):
    with pytest.raises(ApplicationError) as exc:
        user_create(
            tenant=acme.tenant, actor=None, email="w@acme.test", kind="contact", password="password"
        )
    assert exc.value.field == "password"
    assert "at least 12 characters" in exc.value.message and "too common" in exc.value.message
    assert not User.objects.filter(email="w@acme.test").exists()


def test_update_records_before_and_after(acme):
    user_update(user=acme.agent, actor=acme.admin, name="Renamed", phone="+15550100")
    event = _last_event(acme.tenant)
    assert event.action == "user.updated"
    assert event.details["changes"]["name"][1] == "Renamed"


def test_manager_cannot_promote_to_admin(acme):
    with pytest.raises(PermissionDenied):
        user_update(user=acme.agent, actor=acme.manager, role="admin")
    acme.agent.refresh_from_db()
    assert acme.agent.role == "agent"


def test_last_admin_is_protected(acme):
    with pytest.raises(ApplicationError):
        user_update(user=acme.admin, actor=acme.admin, role="agent")
    other = user_create(
        tenant=acme.tenant, actor=acme.admin, email="a2@acme.test", kind="staff", role="admin"
    )
    with pytest.raises(ApplicationError):
        user_deactivate(user=acme.admin, actor=acme.admin)  # nobody deactivates themselves
    user_deactivate(user=acme.admin, actor=other)
    with pytest.raises(ApplicationError) as exc:
        user_deactivate(user=other, actor=None)
    assert exc.value.code == "last_admin"


def test_deactivate_and_reactivate(acme):
    user_deactivate(user=acme.contact, actor=acme.manager)
    acme.contact.refresh_from_db()
    assert not acme.contact.is_active
    assert _last_event(acme.tenant).action == "user.deactivated"
    user_reactivate(user=acme.contact, actor=acme.manager)
    acme.contact.refresh_from_db()
    assert acme.contact.is_active


def test_selectors_never_cross_tenants(acme, globex):
    assert globex.agent not in person_list(actor=acme.admin, kind="staff")
    with pytest.raises(NotFound):
        person_get(actor=acme.admin, user_id=globex.agent.pk)
    team = team_create(tenant=globex.tenant, actor=globex.admin, name="Ops")
    with pytest.raises(NotFound):
        team_get(tenant=acme.tenant, team_id=team.pk)
    token, _ = token_create(user=globex.agent, actor=globex.agent, name="t")
    with pytest.raises(NotFound):
        token_get(user=acme.agent, token_id=token.pk)


def test_person_list_search_and_role_gate(acme):
    assert [u.email for u in person_list(actor=acme.supervisor, kind="contact", q="carla")] == [
        "contact@acme.test"
    ]
    with pytest.raises(PermissionDenied):
        person_list(actor=acme.agent, kind="contact")


def test_team_members_must_be_staff_of_the_tenant(acme, globex):
    with pytest.raises(ApplicationError):
        team_create(tenant=acme.tenant, actor=acme.manager, name="Mixed", members=[acme.contact])
    with pytest.raises(ApplicationError):
        team_create(tenant=acme.tenant, actor=acme.manager, name="Mixed", members=[globex.agent])
    assert not Team.objects.filter(name="Mixed").exists()
    with pytest.raises(PermissionDenied):
        team_create(tenant=acme.tenant, actor=acme.agent, name="Nope")


def test_token_is_hashed_and_authenticates_only_in_its_tenant(acme, globex):
    token, raw = token_create(user=acme.agent, actor=acme.agent, name="ci")
    assert raw.startswith("kd_")
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw.split("_", 2)[2] not in (stored.secret_hash, stored.prefix)
    assert token_authenticate(tenant=acme.tenant, raw=raw).user == acme.agent
    assert token_authenticate(tenant=globex.tenant, raw=raw) is None
    assert token_authenticate(tenant=acme.tenant, raw=raw[:-1] + "x") is None
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None
    event = _last_event(acme.tenant)
    assert raw not in str(event.details)


def test_revoked_token_and_inactive_owner_stop_working(acme):
    token, raw = token_create(user=acme.agent, actor=acme.agent, name="ci")
    with pytest.raises(PermissionDenied):
        token_revoke(token=token, actor=acme.admin)
    token_revoke(token=token, actor=acme.agent)
    assert token_authenticate(tenant=acme.tenant, raw=raw) is None
    _, raw2 = token_create(user=acme.contact, actor=acme.contact, name="c")
    user_deactivate(user=acme.contact, actor=acme.admin)
    assert token_authenticate(tenant=acme.tenant, raw=raw2) is None


def test_people_create_tokens_only_for_themselves(acme):
    with pytest.raises(PermissionDenied):
        token_create(user=acme.agent, actor=acme.admin, name="x")
