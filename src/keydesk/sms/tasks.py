"""Worker tasks of the SMS app."""

from django_tasks import task

from .services import sms_deliver


@task()
def deliver_sms(sms_id: int) -> str:
    return sms_deliver(sms_id=sms_id)
