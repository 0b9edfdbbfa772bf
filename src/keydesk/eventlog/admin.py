"""Events are read-only everywhere, the operator's /ops/ included."""

from django.contrib import admin

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("tenant", "seq", "created_at", "actor_label", "action", "target_label")
    list_filter = ("action", "tenant")
    search_fields = ("actor_label", "target_label")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
