"""Sign-in forms: shape only; the pipeline decides."""

from django import forms


class PasswordSignInForm(forms.Form):
    email = forms.CharField(label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(label="Password", max_length=4096, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
