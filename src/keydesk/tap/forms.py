"""Temporary Access Pass forms: shape only."""

from django import forms

from .models import TapPolicy
from .services import POLICY_FIELDS


class TapSignInForm(forms.Form):
    email = forms.CharField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    tap = forms.CharField(
        label="Temporary Access Pass",
        max_length=64,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "one-time-code"}),
    )


_LIFETIME_RANGE = "From 10 minutes to 30 days (43,200 minutes)."


class TapPolicyForm(forms.ModelForm):
    class Meta:
        model = TapPolicy
        fields = POLICY_FIELDS
        help_texts = {
            "enabled": "Off: no pass works, and none can be added.",
            "min_lifetime_minutes": _LIFETIME_RANGE,
            "max_lifetime_minutes": f"{_LIFETIME_RANGE} Not below the minimum.",
            "default_lifetime_minutes": "Between the minimum and the maximum.",
            "length": "From 8 to 48 characters.",
        }


class TapCreateForm(forms.Form):
    valid_from = forms.DateTimeField(
        label="Start time",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty: now. In UTC.",
    )
    lifetime_minutes = forms.IntegerField(label="Duration (minutes)", min_value=1, required=False)
    one_time = forms.BooleanField(label="One-time use", required=False)
