"""Worker tasks of the mail app."""

from django_tasks import task

from .services import email_deliver_due, email_recover_stranded


@task()
def deliver_queued_email() -> int:
    """Send the mail that is due, oldest first (queued after each commit that adds mail)."""
    return email_deliver_due()


@task()
def recover_stranded_email() -> int:
    """Queue again the mail a stopped worker left behind (run every few minutes)."""
    return len(email_recover_stranded())
