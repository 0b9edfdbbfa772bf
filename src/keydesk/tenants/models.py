"""Tenants: one helpdesk account each, reached at SLUG.BASE or a custom domain."""

from django.db import models

from keydesk.core.models import new_settings_version


class Tenant(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    UPDATED_IN_PLACE = ("last_ticket_number", "settings_version")

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
    # A new random value whenever a settings row of the tenant changes (core.models.
    # TenantSettings); processes keep the rows they read under it.
    settings_version = models.CharField(max_length=32, default=new_settings_version, editable=False)
    limits_lifted_at = models.DateTimeField(
        "Creation limits lifted",
        null=True,
        blank=True,
        editable=False,
        help_text="When a platform operator ended the new account's creation limits early.",
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def save(self, *args, **kwargs):
        # Counters kept by conditional UPDATEs are never written back from a copy of the row
        # that may be older (the operator's admin saves whole rows).
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in self.UPDATED_IN_PLACE
            ]
        super().save(*args, **kwargs)

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


class CreationCount(models.Model):
    """How many users or tickets a tenant created on one UTC day while it was limited.

    One row per tenant, day and kind; `count` only grows through a conditional UPDATE with
    `F()` (see tenants/limits.py), so concurrent creations never take more than the cap.
    """

    class Kind(models.TextChoices):
        USER = "user", "Users"
        TICKET = "ticket", "Tickets"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "day", "kind"], name="tenants_creation_count_one_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day} {self.kind}: {self.count}"
