"""Tenant settings kept per process under the tenant's settings version, and lookups whose SQL
is built once: a change is seen at once, and nothing stale or half-written is ever served."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keydesk.accounts.lockout import protection_for
from keydesk.accounts.models import SessionPolicy, SignInSession, User
from keydesk.accounts.security_settings import session_policy_update, sign_in_protection_update
from keydesk.accounts.session_store import SessionStore
from keydesk.accounts.sessions import session_policy_for
from keydesk.core.queries import Param, PreparedInsert, PreparedLookup, PreparedUpdate
from keydesk.tenants.models import Tenant
from keydesk.tenants.selectors import tenant_for_host


def _fresh(tenant) -> Tenant:
    """The tenant as the next request reads it."""
    return Tenant.objects.get(pk=tenant.pk)


def test_settings_cost_no_query_until_they_change(acme):
    protection_for(_fresh(acme.tenant))
    with CaptureQueriesContext(connection) as unchanged:
        assert protection_for(_fresh(acme.tenant)).max_failures == 5
    assert not [q for q in unchanged if "signinprotection" in q["sql"]]

    # Changed elsewhere (another tenant object, as in another process): the next read sees it.
    sign_in_protection_update(tenant=_fresh(acme.tenant), actor=None, max_failures=7)
    assert protection_for(_fresh(acme.tenant)).max_failures == 7


def test_the_changing_callers_tenant_sees_its_change_at_once(acme):
    tenant = acme.tenant
    assert session_policy_for(tenant).staff_idle_minutes == 480
    session_policy_update(tenant=tenant, actor=None, staff_idle_minutes=30)
    assert session_policy_for(tenant).staff_idle_minutes == 30


def test_a_rolled_back_change_leaves_nothing_behind(acme):
    with pytest.raises(RuntimeError), transaction.atomic():
        sign_in_protection_update(tenant=_fresh(acme.tenant), actor=None, max_failures=9)
        # Inside its transaction the change reads back, whichever tenant object asks.
        assert protection_for(_fresh(acme.tenant)).max_failures == 9
        raise RuntimeError("rolled back")
    assert protection_for(_fresh(acme.tenant)).max_failures == 5
    assert protection_for(acme.tenant).max_failures == 5


def test_each_caller_gets_its_own_copy(acme):
    first = protection_for(_fresh(acme.tenant))
    first.max_failures = 99  # changed but not saved, as a form with errors leaves it
    assert protection_for(_fresh(acme.tenant)).max_failures == 5


def test_a_deleted_row_gives_the_defaults_again(acme):
    session_policy_update(tenant=acme.tenant, actor=None, staff_idle_minutes=30)
    assert session_policy_for(_fresh(acme.tenant)).staff_idle_minutes == 30
    SessionPolicy.objects.get(tenant=acme.tenant).delete()
    assert session_policy_for(_fresh(acme.tenant)).staff_idle_minutes == 480


def test_saving_an_old_copy_of_a_tenant_keeps_its_counters(acme):
    stale = _fresh(acme.tenant)
    sign_in_protection_update(tenant=_fresh(acme.tenant), actor=None, max_failures=8)
    Tenant.objects.filter(pk=acme.tenant.pk).update(last_ticket_number=41)
    stale.name = "Acme Renamed"
    stale.save()  # as the operator's admin saves a whole row
    now = _fresh(acme.tenant)
    assert (now.name, now.last_ticket_number) == ("Acme Renamed", 41)
    assert protection_for(now).max_failures == 8


def test_new_tenants_start_with_versions_of_their_own(acme, globex):
    assert acme.tenant.settings_version
    assert acme.tenant.settings_version != globex.tenant.settings_version


def test_prepared_lookups_find_one_row_or_none(acme):
    assert tenant_for_host("acme.localhost") == acme.tenant
    assert tenant_for_host("nobody.localhost") is None
    by_id = PreparedLookup(User.objects.filter(id=Param("id"), tenant__isnull=False))
    assert by_id.first(id=acme.agent.pk).email == "agent@acme.test"
    assert by_id.first(id=10**9) is None


def test_a_prepared_lookup_takes_several_values_and_keeps_fixed_conditions(acme, globex):
    staff_by_email = PreparedLookup(
        User.objects.filter(
            tenant_id=Param("tenant_id"), email=Param("email"), kind=User.Kind.STAFF
        )
    )
    assert staff_by_email.first(tenant_id=acme.tenant.pk, email="agent@acme.test") == acme.agent
    assert staff_by_email.first(tenant_id=globex.tenant.pk, email="agent@acme.test") is None
    assert staff_by_email.first(tenant_id=acme.tenant.pk, email=acme.contact.email) is None


def test_a_value_compared_with_another_field_is_converted_by_that_field(acme):
    when = timezone.now()
    User.objects.filter(pk=acme.agent.pk).update(last_login=when)
    seen_since = PreparedLookup(
        User.objects.filter(
            tenant_id=Param("tenant_id"),
            last_login__gte=Param("since", User._meta.get_field("last_login")),
        )
    )
    assert seen_since.all(tenant_id=acme.tenant.pk, since=when - timedelta(seconds=1)) == [
        acme.agent
    ]
    assert seen_since.all(tenant_id=acme.tenant.pk, since=when + timedelta(seconds=1)) == []


def test_a_prepared_statement_needs_every_value_and_no_other():
    by_id = PreparedLookup(User.objects.filter(id=Param("id")))
    with pytest.raises(TypeError):
        by_id.first()
    with pytest.raises(TypeError):
        by_id.first(id=1, email="someone@example.test")


def test_a_prepared_lookup_gives_the_columns_asked_for(acme):
    names = PreparedLookup(User.objects.filter(id=Param("id")).values_list("email", "kind"))
    assert names.row(id=acme.agent.pk) == ("agent@acme.test", "staff")
    assert names.row(id=10**9) is None


def test_a_prepared_update_changes_its_row_only(acme):
    seen = PreparedUpdate(
        User.objects.filter(id=Param("id")), name=Param("name"), last_login=Param("last_login")
    )
    when = timezone.now().replace(microsecond=0)
    assert seen.run(id=acme.agent.pk, name="Avery Renamed", last_login=when) == 1
    assert seen.run(id=10**9, name="Nobody", last_login=when) == 0
    agent = User.objects.get(pk=acme.agent.pk)
    assert (agent.name, agent.last_login) == ("Avery Renamed", when)
    assert User.objects.get(pk=acme.admin.pk).last_login != when


def test_a_prepared_insert_writes_the_row_with_its_defaults(acme):
    insert = PreparedInsert(SignInSession)
    session = SignInSession(
        tenant=acme.tenant,
        user=acme.agent,
        session_key="k" * 32,
        methods=["pwd", "otp"],
        auth_time=timezone.now(),
    )
    assert insert.save(session) is True
    stored = SignInSession.objects.get(pk=session.pk)
    assert (stored.session_key, stored.methods, stored.user_agent) == ("k" * 32, ["pwd", "otp"], "")
    assert not session._state.adding


def test_a_prepared_insert_skips_a_taken_key_and_the_transaction_goes_on(acme):
    insert = PreparedInsert(Session, skip_existing=True)
    expires = timezone.now() + timedelta(hours=1)
    with transaction.atomic():
        assert insert.save(Session(session_key="s" * 32, session_data="one", expire_date=expires))
        assert not insert.save(
            Session(session_key="s" * 32, session_data="two", expire_date=expires)
        )
        # No failed statement: the transaction is still usable on PostgreSQL too.
        assert Session.objects.get(pk="s" * 32).session_data == "one"


def test_a_new_session_whose_key_is_taken_draws_another(acme, monkeypatch):
    taken = SessionStore()
    taken["who"] = "first"
    taken.create()
    keys = iter([taken.session_key, "n" * 32])
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: next(keys))

    fresh = SessionStore()
    fresh["who"] = "second"
    fresh.create()

    assert fresh.session_key == "n" * 32
    assert SessionStore(taken.session_key)["who"] == "first"
    assert SessionStore("n" * 32)["who"] == "second"


def test_a_prepared_lookup_converts_columns_and_defers_what_only_leaves_out(acme):
    when = timezone.now().replace(microsecond=0)
    User.objects.filter(pk=acme.agent.pk).update(last_login=when)
    full = PreparedLookup(User.objects.filter(id=Param("id"))).first(id=acme.agent.pk)
    assert full.last_login == when  # a datetime, as the ORM gives it, on every backend
    assert full.get_deferred_fields() == set()

    names = PreparedLookup(User.objects.filter(id=Param("id")).only("id", "name"))
    person = names.first(id=acme.agent.pk)
    assert "email" in person.get_deferred_fields()
    assert person.email == "agent@acme.test"  # loaded when asked for, as with only()


def test_a_prepared_lookup_refuses_columns_that_are_not_the_models():
    annotated = PreparedLookup(User.objects.filter(id=Param("id")).annotate(n=Count("teams")))
    with pytest.raises(ImproperlyConfigured):
        annotated.first(id=1)
