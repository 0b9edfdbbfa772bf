"""Tickets and their comments (public replies and internal notes)."""

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
