"""Worker tasks of the SMS app."""

from django_tasks import task

from .services import sms_deliver, sms_recover_stranded


@task()
def deliver_sms(sms_id: int) -> str:
    return sms_deliver(sms_id=sms_id)


@task()
def recover_stranded_sms() -> int:
    """Queue again the texts a stopped worker left behind (run every few minutes)."""
    return len(sms_recover_stranded())
