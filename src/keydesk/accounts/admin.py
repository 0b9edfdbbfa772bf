"""The platform operator's read-only view of people at /ops/; tenants manage their own."""

from django.contrib import admin

from .models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("email", "tenant", "kind", "role", "is_guest", "is_active", "last_login")
    list_filter = ("kind", "role", "is_active", "tenant")
    search_fields = ("email", "name")
    exclude = ("password",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
