"""Passes expired over 30 days ago are deleted: daily by the worker, or now by `keydesk tap purge`."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from keydesk.cli import main
from keydesk.core.schedule import DAILY_JOBS, enqueue_due_jobs
from keydesk.tap.models import TemporaryAccessPass
from keydesk.tap.services import tap_purge
from tests.conftest import run_worker
from tests.tap.helpers import enable, events, make_pass

PURGE_TASK = "keydesk.tap.tasks.purge_expired_passes"


def expired_days_ago(tap, days: int) -> None:
    """Move the clock: the pass ended `days` days ago."""
    end = timezone.now() - timedelta(days=days)
    TemporaryAccessPass.objects.filter(pk=tap.pk).update(
        valid_from=end - timedelta(hours=1), expires_at=end
    )


def test_keydesk_tap_purge_deletes_passes_expired_over_30_days_ago(acme, globex, capsys):
    enable(acme)
    enable(globex)
    old, _ = make_pass(acme, acme.agent)
    recent, _ = make_pass(acme, acme.contact)
    foreign, _ = make_pass(globex, globex.agent)
    live, _ = make_pass(acme, acme.supervisor)
    expired_days_ago(old, 31)
    expired_days_ago(recent, 29)
    expired_days_ago(foreign, 31)
    assert main(["tap", "purge"]) == 0
    assert capsys.readouterr().out == "Deleted 2 passes that expired over 30 days ago.\n"
    left = set(TemporaryAccessPass.objects.values_list("pk", flat=True))
    assert left == {recent.pk, live.pk}
    # Every tenant gets its own event; the pass's person is not the actor, nobody is.
    [acme_event] = events(acme, "tap.purged")
    [globex_event] = events(globex, "tap.purged")
    assert acme_event.details == globex_event.details == {"count": 1}
    assert acme_event.actor_id is None
    assert main(["tap", "purge"]) == 0
    assert capsys.readouterr().out.startswith("Deleted 0 passes")
    assert len(events(acme, "tap.purged")) == 1  # nothing purged, nothing recorded


def test_the_30_days_count_from_the_expiry(acme):
    enable(acme)
    tap, _ = make_pass(acme, acme.agent)
    assert tap_purge(now=tap.expires_at + timedelta(days=30)) == 0
    assert tap_purge(now=tap.expires_at + timedelta(days=30, seconds=1)) == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_purges_once_a_day(acme_tx):
    world = acme_tx
    enable(world)
    tap, _ = make_pass(world, world.agent)
    expired_days_ago(tap, 31)
    now = timezone.now()
    assert enqueue_due_jobs(now=now) == list(DAILY_JOBS)
    assert enqueue_due_jobs(now=now + timedelta(hours=23)) == []
    assert DBTaskResult.objects.filter(task_path=PURGE_TASK).count() == 1
    run_worker()
    assert not TemporaryAccessPass.objects.filter(pk=tap.pk).exists()
    assert len(events(world, "tap.purged")) == 1
    assert enqueue_due_jobs(now=now + timedelta(days=1)) == list(DAILY_JOBS)
    assert DBTaskResult.objects.filter(task_path=PURGE_TASK).count() == 2
