"""Forms of the outgoing-mail pages: shape only, the services decide."""

from django import forms

from keydesk.accounts.models import Team

from ..models import MailSettings, OutboundEmail

_FIELDS = {f.name: f for f in MailSettings._meta.get_fields() if hasattr(f, "help_text")}


class MailSettingsForm(forms.Form):
    from_name = forms.CharField(
        label=_FIELDS["from_name"].verbose_name.capitalize(),
        max_length=100,
        required=False,
        help_text=_FIELDS["from_name"].help_text,
    )
    # Checked by the service, against the tenant's own domains, with a message naming them.
    from_address = forms.CharField(
        label=_FIELDS["from_address"].verbose_name.capitalize(),
        max_length=254,
        required=False,
        help_text=_FIELDS["from_address"].help_text,
    )
    new_ticket_team = forms.ModelChoiceField(
        label=_FIELDS["new_ticket_team"].verbose_name.capitalize(),
        queryset=Team.objects.none(),
        required=False,
        empty_label="Nobody",
        help_text=_FIELDS["new_ticket_team"].help_text,
    )

    def __init__(self, *args, tenant, default_name: str, default_address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_ticket_team"].queryset = Team.objects.filter(tenant=tenant)
        self.fields["from_name"].widget.attrs["placeholder"] = default_name
        self.fields["from_address"].widget.attrs["placeholder"] = default_address

    @classmethod
    def for_settings(cls, current: MailSettings, data=None, **kwargs) -> "MailSettingsForm":
        initial = {
            "from_name": current.from_name,
            "from_address": current.from_address,
            "new_ticket_team": current.new_ticket_team_id,
        }
        return cls(data, initial=initial, tenant=current.tenant, **kwargs)

    def service_arguments(self) -> dict:
        team = self.cleaned_data["new_ticket_team"]
        return {
            "from_name": self.cleaned_data["from_name"],
            "from_address": self.cleaned_data["from_address"],
            "new_ticket_team_id": team.pk if team else None,
        }


class OutboxFilterForm(forms.Form):
    q = forms.CharField(label="Recipient or ticket", max_length=254, required=False)
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *OutboundEmail.Status.choices],
    )

    def selector_filters(self) -> dict:
        """The keyword arguments of `outbox_list` that the valid fields ask for."""
        self.is_valid()
        data = self.cleaned_data
        return {"status": data.get("status") or None, "q": data.get("q") or None}
