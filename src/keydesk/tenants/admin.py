"""The platform operator's view of tenants at /ops/."""

from django.contrib import admin, messages

from .limits import tenant_lift_limits
from .models import Tenant, TenantDomain
from .services import tenant_set_status


class TenantDomainInline(admin.TabularInline):
    model = TenantDomain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("slug", "name", "domains__domain")
    readonly_fields = ("slug", "status", "created_at", "limits_lifted_at")
    inlines = [TenantDomainInline]
    actions = ["suspend", "reactivate", "lift_limits"]

    def has_add_permission(self, request):
        # Tenants are created with `keydesk tenant create`, which also makes their admin.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Suspend the selected tenants")
    def suspend(self, request, queryset):
        for tenant in queryset:
            tenant_set_status(tenant=tenant, status=Tenant.Status.SUSPENDED, operator=request.user)
        messages.success(request, "Suspended.")

    @admin.action(description="Reactivate the selected tenants")
    def reactivate(self, request, queryset):
        for tenant in queryset:
            tenant_set_status(tenant=tenant, status=Tenant.Status.ACTIVE, operator=request.user)
        messages.success(request, "Reactivated.")

    @admin.action(description="Lift the new-account creation limits")
    def lift_limits(self, request, queryset):
        lifted = sum(tenant_lift_limits(tenant=t, actor=request.user) for t in queryset)
        messages.success(request, f"Creation limits lifted for {lifted} of the selected tenants.")
