"""Two-factor forms: shape only."""

from django import forms


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


class MfaPolicyForm(forms.Form):
    totp_enabled = forms.BooleanField(label="Authenticator app (TOTP)", required=False)
    email_enabled = forms.BooleanField(label="Email codes", required=False)
    sms_enabled = forms.BooleanField(label="SMS codes", required=False)
    require_staff = forms.BooleanField(label="Require staff to set up 2FA", required=False)
    require_contacts = forms.BooleanField(
        label="Require contacts (end users) to set up 2FA", required=False
    )
    grace_until = forms.DateField(
        label="Grace period until",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Until this date, people under a requirement may skip the setup at sign-in.",
    )
