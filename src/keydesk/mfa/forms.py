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


class ReauthForm(forms.Form):
    password = forms.CharField(
        label="Password",
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class ReauthCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ChangeForm(forms.Form):
    """Every change to a person's own methods may end their other sessions."""

    sign_out_others = forms.BooleanField(label="Sign out my other sessions", required=False)


class SetupCodeForm(ChangeForm):
    code = forms.CharField(
        label="Code",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    field_order = ["code", "sign_out_others"]


class EnforceForm(forms.Form):
    enforce_mfa = forms.BooleanField(
        label="Enforce 2FA",
        required=False,
        help_text="Whatever the helpdesk-wide setting, this person must set up a second "
        "factor at their next sign-in.",
    )
