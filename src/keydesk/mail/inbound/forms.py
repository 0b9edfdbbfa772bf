"""Forms of the inbound-mail pages: shape only, the services decide."""

from django import forms

from .models import InboundEmail, InboundSettings

_LIMIT = InboundSettings._meta.get_field("sender_hourly_limit")


class EmailLogFilterForm(forms.Form):
    q = forms.CharField(label="Sender, subject or ticket", max_length=254, required=False)
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *InboundEmail.Status.choices],
    )

    def selector_filters(self) -> dict:
        """The keyword arguments of `inbound_email_list` that the valid fields ask for."""
        self.is_valid()
        data = self.cleaned_data
        return {"status": data.get("status") or None, "q": data.get("q") or None}


class AddressForm(forms.Form):
    # Checked by the service: the address's shape, its domain, and that nobody has it yet.
    address = forms.CharField(label="Email address", max_length=254)


class InboundSettingsForm(forms.Form):
    sender_hourly_limit = forms.IntegerField(
        label=_LIMIT.verbose_name, help_text=_LIMIT.help_text, min_value=1, max_value=10_000
    )
