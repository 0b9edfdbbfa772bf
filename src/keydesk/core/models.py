"""Base model for every row that belongs to one tenant."""

from django.db import models


class TenantOwned(models.Model):
    """A row of one tenant; selectors always filter on `tenant`."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True
