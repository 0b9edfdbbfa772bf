"""Worker tasks of inbound mail: processing what arrived, one message again, and the sweep."""

from django_tasks import task

from .process import inbound_drain, inbound_process, inbound_sweep


@task()
def process_inbound_mail() -> int:
    """Process the received messages, oldest first (queued by the listener)."""
    return inbound_drain()


@task()
def process_inbound_email(email_id: int) -> str:
    return inbound_process(email_id=email_id)


@task()
def sweep_inbound_email() -> int:
    """Queue again stranded and due held messages (run every few minutes)."""
    return len(inbound_sweep())
