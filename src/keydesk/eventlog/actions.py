"""The one catalogue of event actions; `record()` accepts nothing else."""

from django.db import models


class EventAction(models.TextChoices):
    TENANT_CREATED = "tenant.created", "Tenant created"
    TENANT_STATUS_CHANGED = "tenant.status_changed", "Tenant suspended or reactivated"
    USER_CREATED = "user.created", "User created"
    USER_UPDATED = "user.updated", "User updated"
    USER_DEACTIVATED = "user.deactivated", "User deactivated"
    USER_REACTIVATED = "user.reactivated", "User reactivated"
    PASSWORD_CHANGED = "password.changed", "Password changed"
    TEAM_CREATED = "team.created", "Team created"
    TEAM_UPDATED = "team.updated", "Team updated"
    TEAM_DELETED = "team.deleted", "Team deleted"
    TOKEN_CREATED = "token.created", "API token created"
    TOKEN_REVOKED = "token.revoked", "API token revoked"
    LOGIN_SUCCEEDED = "login.succeeded", "Sign-in succeeded"
    LOGIN_FAILED = "login.failed", "Sign-in failed"
    LOGOUT = "logout", "Signed out"
    TICKET_CREATED = "ticket.created", "Ticket created"
    TICKET_UPDATED = "ticket.updated", "Ticket updated"
    TICKET_ASSIGNED = "ticket.assigned", "Ticket assigned"
    TICKET_STATUS_CHANGED = "ticket.status_changed", "Ticket status changed"
    TICKET_COMMENTED = "ticket.commented", "Public reply added"
    TICKET_NOTE_ADDED = "ticket.note_added", "Internal note added"
    EVENTS_EXPORTED = "events.exported", "Event log exported"
