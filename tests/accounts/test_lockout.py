"""Brute-force protection: lockout after N failures, doubling lock time, IP throttle, exact counts."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from keydesk.accounts.lockout import account_unlock, is_locked, protection_for, reserve_attempt
from keydesk.accounts.models import AccountLockout, SignInProtection
from keydesk.core.errors import PermissionDenied
from keydesk.eventlog.models import Event
from keydesk.mail.models import OutboundEmail
from tests.conftest import PASSWORD


def _login(client, email, password):
    return client.post("/login", {"email": email, "password": password})


def _fail(world, times, email="agent@acme.test"):
    client = world.client()
    for _ in range(times):
        response = _login(client, email, "wrong password!")
        assert response.status_code == 200
    return client


def test_account_locks_after_five_failures_and_says_nothing_more(acme):
    _fail(acme, 5)
    assert is_locked(acme.agent)
    # The right password no longer works, with the same answer as a wrong one.
    response = _login(acme.client(), "agent@acme.test", PASSWORD)
    assert response.status_code == 200
    assert b"not correct" in response.content
    reasons = list(
        Event.objects.filter(tenant=acme.tenant, action="login.failed")
        .order_by("seq")
        .values_list("details__reason", flat=True)
    )
    assert reasons == ["wrong_password"] * 5 + ["locked"]
    locked = Event.objects.get(tenant=acme.tenant, action="account.locked")
    assert locked.details["minutes"] == 15
    assert OutboundEmail.objects.get(template="account_locked").recipient == "agent@acme.test"


def test_success_before_the_threshold_resets_the_count(acme):
    _fail(acme, 4)
    assert _login(acme.client(), "agent@acme.test", PASSWORD).status_code == 302
    _fail(acme, 4)
    assert not is_locked(acme.agent)


def test_lock_time_doubles_and_is_capped(acme):
    SignInProtection.objects.create(tenant=acme.tenant, lock_minutes=15, max_lock_minutes=40)
    minutes = []
    for _ in range(3):
        _fail(acme, 5)
        row = AccountLockout.objects.get(user=acme.agent)
        minutes.append(round((row.locked_until - timezone.now()).total_seconds() / 60))
        # Let the lock run out.
        AccountLockout.objects.filter(pk=row.pk).update(locked_until=timezone.now())
    assert minutes == [15, 30, 40]


def test_failures_are_forgotten_after_a_quiet_period(acme):
    _fail(acme, 4)
    AccountLockout.objects.filter(user=acme.agent).update(
        last_failure_at=timezone.now() - timedelta(hours=13)
    )
    _fail(acme, 4)
    assert not is_locked(acme.agent)


def test_admin_unlocks_and_it_is_recorded(acme):
    _fail(acme, 5)
    with pytest.raises(PermissionDenied):
        account_unlock(user=acme.agent, actor=acme.other_contact)
    account_unlock(user=acme.agent, actor=acme.admin)
    assert not is_locked(acme.agent)
    assert Event.objects.filter(tenant=acme.tenant, action="account.unlocked").exists()
    assert _login(acme.client(), "agent@acme.test", PASSWORD).status_code == 302


def test_ip_throttle_blocks_an_address_across_accounts(acme):
    SignInProtection.objects.create(tenant=acme.tenant, ip_max_failures=6)
    attacker = Client(HTTP_HOST=acme.host, REMOTE_ADDR="203.0.113.9")
    for i in range(6):
        _login(attacker, f"user{i}@acme.test", "guess")
    # Blocked even for a correct password, while another address still signs in.
    assert _login(attacker, "agent@acme.test", PASSWORD).status_code == 200
    other = Client(HTTP_HOST=acme.host, REMOTE_ADDR="198.51.100.7")
    assert _login(other, "agent@acme.test", PASSWORD).status_code == 302
    last = Event.objects.filter(tenant=acme.tenant, action="login.failed").order_by("-seq").first()
    assert last.details["reason"] == "ip_blocked"


def test_lockout_is_per_tenant(acme, globex):
    _fail(acme, 5)
    response = globex.client().post("/login", {"email": "agent@globex.test", "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_wrong_passwords_lock_at_exactly_five(settings):
    from tests.conftest import TenantWorld

    world = TenantWorld("race")
    barrier = threading.Barrier(20)
    errors = []

    def attempt():
        try:
            client = world.client()
            barrier.wait()
            _login(client, "agent@race.test", "wrong password!")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    row = AccountLockout.objects.get(user=world.agent)
    assert row.failures == 5 and row.locked_until is not None
    reasons = list(
        Event.objects.filter(tenant=world.tenant, action="login.failed").values_list(
            "details__reason", flat=True
        )
    )
    # Only five passwords were ever checked; the other fifteen met the lock.
    assert sorted(reasons) == ["locked"] * 15 + ["wrong_password"] * 5
    assert Event.objects.filter(tenant=world.tenant, action="account.locked").count() == 1


def _lockout_after_one_try(acme, **state):
    """The account's lockout row after one try, from `state`; and whether the try was taken."""
    AccountLockout.objects.update_or_create(
        user=acme.agent, defaults={"tenant": acme.tenant, **state}
    )
    taken = reserve_attempt(acme.agent, protection_for(acme.tenant))
    row = AccountLockout.objects.get(user=acme.agent)
    return taken, (row.failures, row.lockouts, row.locked_until is not None)


def test_each_lockout_state_takes_or_refuses_a_try_in_one_update(acme):
    now = timezone.now()
    recently, long_ago = now - timedelta(minutes=1), now - timedelta(hours=13)
    # Tries left: one more is taken.
    assert _lockout_after_one_try(
        acme, failures=2, lockouts=1, locked_until=None, last_failure_at=recently
    ) == (True, (3, 1, False))
    # Out of tries (the lock is being written by the failing attempt): refused.
    assert _lockout_after_one_try(
        acme, failures=5, lockouts=1, locked_until=None, last_failure_at=recently
    ) == (False, (5, 1, False))
    # Locked: refused, and nothing changes.
    assert _lockout_after_one_try(
        acme,
        failures=5,
        lockouts=1,
        locked_until=now + timedelta(minutes=5),
        last_failure_at=recently,
    ) == (False, (5, 1, True))
    # The lock ran out: fresh tries, the first taken; the lockout count stays (next lock longer).
    assert _lockout_after_one_try(
        acme, failures=5, lockouts=2, locked_until=recently, last_failure_at=long_ago
    ) == (True, (1, 2, False))
    # A quiet period forgives the failures and the lockouts.
    assert _lockout_after_one_try(
        acme, failures=4, lockouts=2, locked_until=None, last_failure_at=long_ago
    ) == (True, (1, 0, False))


def test_the_first_try_on_an_account_creates_its_lockout_row(acme):
    AccountLockout.objects.filter(user=acme.agent).delete()
    assert reserve_attempt(acme.agent, protection_for(acme.tenant))
    assert AccountLockout.objects.get(user=acme.agent).failures == 1


def test_two_first_tries_racing_on_a_new_account_both_get_one(acme, monkeypatch):
    # The first try finds no row; before it makes one, another attempt makes it and takes a
    # try. The first must still get its try, not be refused as if the account were locked.
    from keydesk.accounts import lockout

    AccountLockout.objects.filter(user=acme.agent).delete()
    protection = protection_for(acme.tenant)
    take_try = lockout._take_try.run_committed_asynchronously
    other = {}

    def first_try_loses_the_race(*reads, **values):
        outcome = take_try(*reads, **values)
        if not other:
            other["started"] = True
            other["taken"] = reserve_attempt(acme.agent, protection)
        return outcome

    monkeypatch.setattr(lockout._take_try, "run_committed_asynchronously", first_try_loses_the_race)
    assert reserve_attempt(acme.agent, protection)
    assert other["taken"]
    assert AccountLockout.objects.get(user=acme.agent).failures == 2
