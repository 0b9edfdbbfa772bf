"""The event log: one writer, a per-tenant hash chain, and a verifier that finds tampering."""

import threading

import pytest
from django.db import connection, transaction

from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.models import Event
from keydesk.eventlog.services import REDACTED, events_verify, record


def _raw_update(sql: str, params: list) -> None:
    # Tampering goes around the application, as an attacker with database access would.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_chain_of_a_new_tenant_verifies(acme, globex):
    report = events_verify(tenant=acme.tenant)
    assert report.ok
    assert report.count == Event.objects.filter(tenant=acme.tenant).count() > 5


def test_each_tenant_has_its_own_chain(acme, globex):
    first = Event.objects.filter(tenant=globex.tenant).order_by("seq").first()
    assert first.seq == 1
    assert first.prev_hash == "0" * 64


def test_edited_row_is_named(acme):
    record(acme.tenant, acme.admin, EventAction.TICKET_CREATED, None, subject="x")
    event = Event.objects.filter(tenant=acme.tenant).order_by("seq")[3]
    _raw_update("UPDATE eventlog_event SET actor_label = %s WHERE id = %s", ["mallory@x", event.pk])
    report = events_verify(tenant=acme.tenant)
    assert not report.ok
    assert report.broken_seq == event.seq
    assert "altered" in report.reason


def test_edited_details_are_found(acme):
    event = Event.objects.filter(tenant=acme.tenant).order_by("seq")[2]
    _raw_update(
        "UPDATE eventlog_event SET details = %s WHERE id = %s", ['{"role": "admin"}', event.pk]
    )
    report = events_verify(tenant=acme.tenant)
    assert not report.ok and report.broken_seq == event.seq


def test_deleted_row_is_found(acme):
    event = Event.objects.filter(tenant=acme.tenant).order_by("seq")[2]
    _raw_update("DELETE FROM eventlog_event WHERE id = %s", [event.pk])
    report = events_verify(tenant=acme.tenant)
    assert not report.ok
    assert report.broken_seq == event.seq
    assert "missing" in report.reason


def test_deleted_tail_is_found(acme):
    last = Event.objects.filter(tenant=acme.tenant).order_by("-seq").first()
    _raw_update("DELETE FROM eventlog_event WHERE id = %s", [last.pk])
    report = events_verify(tenant=acme.tenant)
    assert not report.ok
    assert report.broken_seq == last.seq


def test_reordered_rows_are_found(acme):
    a, b = Event.objects.filter(tenant=acme.tenant).order_by("seq")[1:3]
    # Swap the two rows' sequence numbers (through a free number, for the unique constraint).
    with transaction.atomic():
        _raw_update("UPDATE eventlog_event SET seq = %s WHERE id = %s", [999999, a.pk])
        _raw_update("UPDATE eventlog_event SET seq = %s WHERE id = %s", [a.seq, b.pk])
        _raw_update("UPDATE eventlog_event SET seq = %s WHERE id = %s", [b.seq, a.pk])
    report = events_verify(tenant=acme.tenant)
    assert not report.ok
    assert report.broken_seq == a.seq


def test_no_update_or_delete_path(acme):
    event = Event.objects.filter(tenant=acme.tenant).first()
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).delete()
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()


def test_secrets_never_reach_the_log(acme):
    event = record(
        acme.tenant,
        acme.admin,
        EventAction.USER_UPDATED,
        acme.agent,
        password="hunter2hunter2",
        nested={"api_token": "kd_x", "tap": "ABC", "ok": 1},
    )
    event.refresh_from_db()
    assert event.details == {
        "password": REDACTED,
        "nested": {"api_token": REDACTED, "tap": REDACTED, "ok": 1},
    }
    assert events_verify(tenant=acme.tenant).ok


def test_unknown_action_is_refused(acme):
    with pytest.raises(ValueError):
        record(acme.tenant, None, "made.up")


def test_event_rolls_back_with_its_action(acme):
    before = Event.objects.filter(tenant=acme.tenant).count()
    with pytest.raises(RuntimeError), transaction.atomic():
        record(acme.tenant, acme.admin, EventAction.TICKET_CREATED, None)
        raise RuntimeError("the action failed after recording")
    assert Event.objects.filter(tenant=acme.tenant).count() == before
    assert events_verify(tenant=acme.tenant).ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain():
    from tests.conftest import TenantWorld

    world = TenantWorld("concur")
    errors = []

    def append(n):
        try:
            for i in range(10):
                record(world.tenant, None, EventAction.TICKET_UPDATED, None, worker=n, i=i)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = events_verify(tenant=world.tenant)
    assert report.ok, report.reason
    assert Event.objects.filter(tenant=world.tenant, action="ticket.updated").count() == 40
