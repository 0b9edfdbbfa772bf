"""Access-list forms: shape only; the services normalise values and enforce the rules."""

import csv
import io
from datetime import UTC, datetime

from django import forms
from django.utils import timezone

from keydesk.core.errors import ApplicationError

from .models import ACTION_LABELS, AccessRule
from .values import email_normalise, language_normalise

MAX_IMPORT_BYTES = 20 * 1024 * 1024
IMPORT_TOO_LARGE = (
    "The file is larger than 20 MB. Split it into smaller files and import them one after "
    "the other (only the first with “Replace all existing rules”)."
)
IMPORT_NOT_UTF8 = (
    "The file is not UTF-8 text. Save it as “CSV UTF-8” (comma-separated) and upload it again."
)
IMPORT_NOT_TEXT = "The file contains NUL characters: it is not a CSV text file."
CONFIRM_LABEL = "I understand that my own sign-in will be refused"

ACTION_CHOICES = list(ACTION_LABELS.items())
AUTO = "auto"


class UtcDateTimeField(forms.DateTimeField):
    """A `datetime-local` input, read and shown in UTC whatever time zone is active."""

    widget = forms.DateTimeInput(
        attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"
    )

    def to_python(self, value) -> datetime | None:
        with timezone.override(UTC):
            return super().to_python(value)

    def prepare_value(self, value):
        with timezone.override(UTC):
            return super().prepare_value(value)


def _confirm_field() -> forms.BooleanField:
    return forms.BooleanField(label=CONFIRM_LABEL, required=False)


class RuleFilterForm(forms.Form):
    """The list's filters; every field is optional and invalid values are left out."""

    q = forms.CharField(label="Search", max_length=254, required=False)
    list_type = forms.ChoiceField(
        label="List", required=False, choices=[("", "Any list"), *AccessRule.List.choices]
    )
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "Any kind"), *AccessRule.Kind.choices]
    )
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any action"), *ACTION_CHOICES]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": "Value or note"})

    def selector_filters(self) -> dict:
        """The keyword arguments of `rule_list` that the valid fields ask for."""
        self.is_valid()
        data = self.cleaned_data
        return {name: data.get(name) or "" for name in ("list_type", "kind", "action", "q")}


class RuleForm(forms.Form):
    """Add or edit one rule."""

    list_type = forms.ChoiceField(
        label="List",
        choices=AccessRule.List.choices,
        # Deny first: an allow rule refuses everyone it does not match, so it is never a default.
        initial=AccessRule.List.DENY,
        help_text="Deny refuses what matches. Allow lets in only what matches: once a kind has "
        "an allow rule, a request must match one of that kind's allow rules.",
    )
    kind = forms.ChoiceField(label="Kind", choices=AccessRule.Kind.choices)
    value = forms.CharField(
        label="Value",
        max_length=254,
        help_text="An IP address or network (192.0.2.7, 10.0.0.0/8, 2001:db8::/32), an email "
        "domain (example.com), an email address, or a language tag (fr, pt-BR).",
    )
    include_subdomains = forms.BooleanField(
        label="Include subdomains",
        required=False,
        help_text="Domain rules only: example.com then also matches eu.example.com.",
    )
    actions = forms.MultipleChoiceField(
        label="Actions",
        choices=ACTION_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every action, also those Keydesk adds later.",
    )
    audience = forms.ChoiceField(
        label="Audience", choices=AccessRule.Audience.choices, initial=AccessRule.Audience.BOTH
    )
    note = forms.CharField(
        label="Note",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the rule exists, for the other admins.",
    )
    expires_at = UtcDateTimeField(
        label="Expires at (UTC)",
        required=False,
        help_text="The date and time are in UTC, not your local time. Empty: the rule never "
        "expires.",
    )
    confirm_self_lockout = _confirm_field()

    @classmethod
    def initial_for(cls, rule: AccessRule) -> dict:
        """The edit form's values: the rule as it is saved."""
        return {
            "list_type": rule.list_type,
            "kind": rule.kind,
            "value": rule.value,
            "include_subdomains": rule.include_subdomains,
            "actions": rule.actions,
            "audience": rule.audience,
            "note": rule.note,
            "expires_at": rule.expires_at,
        }


class RuleDeleteForm(forms.Form):
    confirm_self_lockout = _confirm_field()


class RuleImportForm(forms.Form):
    """A CSV file decoded to text; the service checks every row."""

    replace = forms.BooleanField(
        label="Replace all existing rules",
        required=False,
        help_text="Off: the file's rules are added to the existing ones. On: every existing "
        "rule is removed first.",
    )
    confirm_self_lockout = _confirm_field()
    # Last in the form, so that the fields above arrive even when an oversized file is cut off.
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, at most 20 MB, with a header row. Required columns: list, kind, "
        "value; optional: include_subdomains, actions, audience, note, expires_at.",
    )

    def __init__(self, *args, too_large: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        self.fields["file"].widget.attrs["accept"] = ".csv,text/csv"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(IMPORT_TOO_LARGE)
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(IMPORT_NOT_UTF8) from None
        if "\x00" in text:
            raise forms.ValidationError(IMPORT_NOT_TEXT)
        # The rows are the service's to check; a file the csv module cannot read at all (a
        # cell over its size limit) is refused here, with the line.
        reader = csv.reader(io.StringIO(text))
        try:
            for _row in reader:
                pass
        except csv.Error as exc:
            raise forms.ValidationError(
                f"Line {reader.line_num} cannot be read as CSV ({exc}). Nothing was imported."
            ) from None
        return text

    def full_clean(self):
        super().full_clean()
        # The upload handler stopped reading the file: the field is empty, and "required"
        # would not say why.
        if self.too_large and self.is_bound:
            self.errors.pop("file", None)
            self.add_error("file", IMPORT_TOO_LARGE)


class RuleTesterForm(forms.Form):
    """A request to try against the rules; empty IP, email and language count as unknown."""

    ip = forms.GenericIPAddressField(
        label="IP address",
        required=False,
        unpack_ipv4=True,
        help_text="Filled in with your own address as Keydesk sees it.",
    )
    email = forms.CharField(label="Email", max_length=254, required=False)
    language = forms.CharField(
        label="Language",
        max_length=35,
        required=False,
        help_text="A language tag such as fr or pt-BR. Empty: the person's profile language "
        "when they have one, else unknown. Sign-in uses the profile language, or the browser's "
        "first language for people without one.",
    )
    action = forms.ChoiceField(label="Action", choices=ACTION_CHOICES, initial="login")
    audience = forms.ChoiceField(
        label="Audience",
        initial=AUTO,
        choices=[
            (AUTO, "From the email"),
            (AccessRule.Audience.STAFF.value, "Staff"),
            (AccessRule.Audience.CONTACTS.value, "Contacts"),
        ],
        help_text="From the email: staff when a staff member has this address, else contacts. "
        "Someone Keydesk does not know yet (registering, a first email) is judged as a contact.",
    )

    def clean_email(self) -> str:
        return self._normalised("email", email_normalise)

    def clean_language(self) -> str:
        return self._normalised("language", language_normalise)

    def _normalised(self, name: str, normalise) -> str:
        raw = self.cleaned_data.get(name, "")
        if not raw:
            return ""
        try:
            return normalise(raw)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None
