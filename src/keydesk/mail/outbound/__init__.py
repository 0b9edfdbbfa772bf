"""Outgoing mail beyond the outbox itself: senders, SMTP, ticket notifications, admin pages."""
