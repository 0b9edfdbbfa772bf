"""Allow and deny rules per tenant, and the version number that tells processes to recompile."""

from django.conf import settings
from django.db import models

from keydesk.core.models import TenantOwned, TenantSettings

ACTIONS = ("login", "register", "ticket.web", "ticket.email", "ticket.api")
ACTION_LABELS = {
    "login": "Sign-in",
    "register": "Registration and new contacts",
    "ticket.web": "Tickets from the portal",
    "ticket.email": "Tickets by email",
    "ticket.api": "Tickets through the API",
}


class AccessRule(TenantOwned):
    class List(models.TextChoices):
        ALLOW = "allow", "Allow"
        DENY = "deny", "Deny"

    class Kind(models.TextChoices):
        IP = "ip", "IP address or network"
        DOMAIN = "domain", "Email domain"
        EMAIL = "email", "Email address"
        LANGUAGE = "language", "Language"

    class Audience(models.TextChoices):
        BOTH = "both", "Staff and contacts"
        STAFF = "staff", "Staff"
        CONTACTS = "contacts", "Contacts"

    list_type = models.CharField("list", max_length=5, choices=List.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(
        max_length=254,
        help_text="Normalised: a network in CIDR form, an ASCII domain, a lower-case address "
        "or a lower-case language tag.",
    )
    include_subdomains = models.BooleanField(
        default=False, help_text="Domain rules only: also match every subdomain."
    )
    actions = models.JSONField(default=list, help_text="Actions the rule applies to.")
    audience = models.CharField(max_length=8, choices=Audience.choices, default=Audience.BOTH)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="The rule stops applying at this time."
    )

    class Meta:
        ordering = ["list_type", "kind", "value", "pk"]
        indexes = [models.Index(fields=["tenant", "list_type", "kind"])]

    def __str__(self) -> str:
        return f"{self.list_type} {self.kind} {self.value}"


class AccessListVersion(TenantSettings):
    """Changed with every rule change, so each process knows when its compiled copy is stale.

    The version is a fresh random value rather than a counter: a change that is rolled back
    must never leave a process holding rules under a number a later change will reuse. The
    row is read like a settings row (`tenant_settings`), so a request whose tenant's rules
    did not change reads no row at all.
    """

    tenant = models.OneToOneField(
        "tenants.Tenant", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    version = models.CharField(max_length=32)
    rule_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"access rules of tenant {self.tenant_id}: {self.rule_count}, version {self.version}"
