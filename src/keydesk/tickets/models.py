"""Tickets, their comments (public replies and internal notes) and attachments."""

import uuid

from django.conf import settings
from django.db import models

from keydesk.core.models import TenantOwned

SUBJECT_MAX = 255
BODY_MAX = 1_000_000


class Ticket(TenantOwned):
    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        SOLVED = "solved", "Solved"
        CLOSED = "closed", "Closed"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    class Source(models.TextChoices):
        WEB = "web", "Web"
        EMAIL = "email", "Email"
        API = "api", "API"

    number = models.PositiveBigIntegerField(help_text="Shown as #number; unique per tenant.")
    subject = models.CharField(max_length=SUBJECT_MAX)
    description = models.TextField(max_length=BODY_MAX, blank=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.WEB)
    email_message_id = models.CharField(
        max_length=255,
        blank=True,
        help_text="Message-ID of the email that opened the ticket; replies thread under it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="tickets_number_per_tenant")
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "-number"]),
            models.Index(fields=["tenant", "assignee", "-number"]),
            models.Index(fields=["tenant", "team", "-number"]),
            models.Index(fields=["tenant", "requester", "-number"]),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"


class Comment(TenantOwned):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ticket_comments"
    )
    body = models.TextField(max_length=BODY_MAX)
    is_public = models.BooleanField(default=True, help_text="Public reply, or internal note.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"])]

    def __str__(self) -> str:
        return f"{'Reply' if self.is_public else 'Note'} on #{self.ticket.number}"


def _attachment_path(attachment: "Attachment", filename: str) -> str:
    # A random name, never the sender's: no path tricks, nothing guessable, no clashes.
    return f"attachments/{attachment.tenant_id}/{uuid.uuid4().hex}"


class Attachment(TenantOwned):
    """A file that came with a ticket or one of its comments (e.g. attached to an email)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        Comment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
        help_text="The comment it came with; empty: the ticket's description.",
    )
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=_attachment_path, max_length=255)
    inline = models.BooleanField(
        default=False, help_text="An image shown inside the message rather than attached to it."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["ticket", "comment"])]

    def __str__(self) -> str:
        return self.filename
