"""Daily jobs: the task worker enqueues each one once a day, however many workers run."""

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
}
EVERY = timedelta(days=1)
CHECK_INTERVAL_SECONDS = 3600


def enqueue_due_jobs(*, now=None) -> list[str]:
    """Enqueue each daily job whose last run is a day old; returns the names enqueued.

    The conditional UPDATE on the job's row is the claim: of several workers checking at
    once, one wins and enqueues.
    """
    now = now or timezone.now()
    enqueued = []
    for name, path in DAILY_JOBS.items():
        try:
            with transaction.atomic():
                ScheduledRun.objects.get_or_create(
                    name=name, defaults={"last_run_at": now - EVERY - timedelta(seconds=1)}
                )
        except IntegrityError:
            pass  # created by another worker
        if ScheduledRun.objects.filter(name=name, last_run_at__lte=now - EVERY).update(
            last_run_at=now
        ):
            import_string(path).enqueue()
            enqueued.append(name)
    return enqueued


def run_scheduler(stop: threading.Event) -> None:
    """Check for due jobs at start and then every hour, until `stop` is set."""
    while not stop.is_set():
        try:
            for name in enqueue_due_jobs():
                logger.info("enqueued daily job %s", name)
        except Exception:  # the worker goes on; the next check tries again
            logger.exception("could not enqueue daily jobs")
        finally:
            close_old_connections()
        stop.wait(CHECK_INTERVAL_SECONDS)
