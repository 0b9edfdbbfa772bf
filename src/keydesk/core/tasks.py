"""Worker tasks of the platform itself."""

from django_tasks import task

from .worker import finished_tasks_prune


@task()
def prune_finished_tasks() -> int:
    """Delete the queue's rows of tasks that finished over two weeks ago (daily)."""
    return finished_tasks_prune()
