"""Worker tasks of the mail app."""

from django_tasks import task

from .services import email_deliver, email_recover_stranded


@task()
def deliver_email(email_id: int) -> str:
    return email_deliver(email_id=email_id)


@task()
def recover_stranded_email() -> int:
    """Queue again the mail a stopped worker left behind (run every few minutes)."""
    return len(email_recover_stranded())
