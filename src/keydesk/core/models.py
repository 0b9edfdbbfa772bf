"""Base model for every row that belongs to one tenant."""

from django.db import models


class TenantOwned(models.Model):
    """A row of one tenant; selectors always filter on `tenant`."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


def tenant_settings(model, tenant):
    """The tenant's settings row of `model` (one per tenant), or an unsaved one with the defaults."""
    return model.objects.filter(tenant=tenant).first() or model(tenant=tenant)


class ScheduledRun(models.Model):
    """When a periodic job last ran, so that several workers run it once between them."""

    name = models.CharField(max_length=64, primary_key=True)
    last_run_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.last_run_at}"
