"""Periodic jobs: the task worker enqueues each one once per period, however many workers run.

Daily jobs (purges, and pruning the task queue's finished rows) run once a day; frequent
jobs (putting stranded outbox messages and inbound mail back in the queue, processing held
inbound mail that has come due) every few minutes.
"""

import logging
import threading
from datetime import timedelta

from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import ScheduledRun

logger = logging.getLogger(__name__)

DAILY_JOBS = {
    "tap.purge": "keydesk.tap.tasks.purge_expired_passes",
    "tasks.prune": "keydesk.core.tasks.prune_finished_tasks",
}
EVERY = timedelta(days=1)
FREQUENT_JOBS = {
    "mail.recover": "keydesk.mail.tasks.recover_stranded_email",
    "sms.recover": "keydesk.sms.tasks.recover_stranded_sms",
    "mail.inbound_sweep": "keydesk.mail.inbound.tasks.sweep_inbound_email",
}
FREQUENT_EVERY = timedelta(minutes=5)
CHECK_INTERVAL_SECONDS = 60


def enqueue_due_jobs(*, now=None, jobs: dict | None = None, every: timedelta = EVERY) -> list[str]:
    """Enqueue each job (daily ones by default) last run `every` ago; returns the names enqueued.

    The conditional UPDATE on the job's row is the claim: of several workers checking at
    once, one wins and enqueues.
    """
    now = now or timezone.now()
    enqueued = []
    for name, path in (DAILY_JOBS if jobs is None else jobs).items():
        try:
            with transaction.atomic():
                ScheduledRun.objects.get_or_create(
                    name=name, defaults={"last_run_at": now - every - timedelta(seconds=1)}
                )
        except IntegrityError:
            pass  # created by another worker
        if ScheduledRun.objects.filter(name=name, last_run_at__lte=now - every).update(
            last_run_at=now
        ):
            import_string(path).enqueue()
            enqueued.append(name)
    return enqueued


def run_scheduler(stop: threading.Event) -> None:
    """Check for due jobs at start and then every minute, until `stop` is set."""
    while not stop.is_set():
        try:
            for name in enqueue_due_jobs():
                logger.info("enqueued daily job %s", name)
            enqueue_due_jobs(jobs=FREQUENT_JOBS, every=FREQUENT_EVERY)
        except Exception:  # the worker goes on; the next check tries again
            logger.exception("could not enqueue periodic jobs")
        finally:
            close_old_connections()
        stop.wait(CHECK_INTERVAL_SECONDS)
