"""Tenants: one helpdesk account each, reached at SLUG.BASE or a custom domain."""

from django.db import models


class Tenant(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    self_registration = models.BooleanField(
        "Contacts may register themselves",
        default=False,
        help_text="Shows a sign-up page at /register; new contacts verify their email address.",
    )
    # Ticket numbers are per tenant (#1, #2, …); taken under a row lock on the tenant.
    last_ticket_number = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class TenantDomain(models.Model):
    """A custom domain that serves a tenant besides SLUG.BASE."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.domain
