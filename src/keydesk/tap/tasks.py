"""Worker tasks of Temporary Access Pass: the daily purge of long-expired passes."""

from django_tasks import task

from .services import tap_purge


@task()
def purge_expired_passes() -> int:
    return tap_purge()
