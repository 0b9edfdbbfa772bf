"""Account forms: sign-in, people, teams and API tokens; shape only, the services decide."""

from django import forms

from .models import PasswordPolicy, SessionPolicy, SignInProtection, User
from .security_settings import PROTECTION_BOUNDS, SESSION_BOUNDS
from .services import POLICY_FIELDS


class PasswordSignInForm(forms.Form):
    email = forms.CharField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password",
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PersonSearchForm(forms.Form):
    q = forms.CharField(label="Search", max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": "Name or email"})


class PersonForm(forms.Form):
    """Create or edit a staff member or a contact.

    `roles` are the roles the acting person may give; a contact form has no role field, and
    only a new person gets an initial password.
    """

    email = forms.EmailField(label="Email", max_length=254)
    name = forms.CharField(label="Name", max_length=200, required=False)
    role = forms.ChoiceField(label="Role")
    language = forms.CharField(
        label="Language",
        max_length=35,
        required=False,
        help_text="A language tag, e.g. en or fr-CA.",
    )
    phone = forms.CharField(label="Phone", max_length=32, required=False)
    is_guest = forms.BooleanField(
        label="This user is a guest",
        required=False,
        help_text="Guests sign in only with a Temporary Access Pass and receive no email.",
    )
    email_notifications = forms.BooleanField(
        label="Email notifications about tickets",
        required=False,
        help_text="Security mail (sign-in codes, password resets, alerts) is always sent.",
    )
    password = forms.CharField(
        label="Initial password",
        max_length=4096,
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to let the person set one later. The password policy applies.",
    )

    def __init__(self, *args, kind: str, roles=(), new: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if kind == User.Kind.CONTACT:
            del self.fields["role"]
        else:
            self.fields["role"].choices = [
                (value, label) for value, label in User.Role.choices if value in roles
            ]
        if new:
            del self.fields["email_notifications"]  # on from the start; changed later
        else:
            del self.fields["password"]

    @classmethod
    def for_person(cls, person: User, data=None, **kwargs) -> "PersonForm":
        initial = {
            "email": person.email,
            "name": person.name,
            "role": person.role,
            "language": person.language,
            "phone": person.phone,
            "is_guest": person.is_guest,
            "email_notifications": person.email_notifications,
        }
        return cls(data, initial=initial, kind=person.kind, new=False, **kwargs)

    def service_arguments(self) -> dict:
        """The cleaned fields as keyword arguments; an empty password means none."""
        data = dict(self.cleaned_data)
        if not data.get("password"):
            data.pop("password", None)
        return data


class TeamForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100)
    members = forms.MultipleChoiceField(
        label="Members", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].choices = [
            (str(person.pk), _member_label(person)) for person in staff
        ]

    def selected_members(self, staff) -> list[User]:
        chosen = set(self.cleaned_data["members"])
        return [person for person in staff if str(person.pk) in chosen]


def _member_label(person: User) -> str:
    label = person.display_name
    if person.name:
        label = f"{label} ({person.email})"
    return label if person.is_active else f"{label}, inactive"


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What the token is for, e.g. the script or integration that uses it.",
    )


class PasswordResetRequestForm(forms.Form):
    email = forms.CharField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )


class NewPasswordForm(forms.Form):
    """A new password typed twice; the tenant's policy is checked by the service."""

    new_password = forms.CharField(
        label="New password",
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    confirm_password = forms.CharField(
        label="Repeat the new password",
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") != data.get("confirm_password"):
            self.add_error("confirm_password", "The two passwords differ.")
        return data


class PasswordChangeForm(NewPasswordForm):
    current_password = forms.CharField(
        label="Current password",
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["current_password", "new_password", "confirm_password"]


class PasswordPolicyForm(forms.ModelForm):
    force_change_all = forms.BooleanField(
        label="Ask everyone to choose a new password at their next sign-in", required=False
    )

    class Meta:
        model = PasswordPolicy
        fields = POLICY_FIELDS


class SignInProtectionForm(forms.ModelForm):
    class Meta:
        model = SignInProtection
        fields = list(PROTECTION_BOUNDS)


class SessionPolicyForm(forms.ModelForm):
    self_registration = forms.BooleanField(
        label="Contacts may register themselves at /register", required=False
    )

    class Meta:
        model = SessionPolicy
        fields = [*SESSION_BOUNDS, "new_device_alerts"]


class RegistrationForm(NewPasswordForm):
    email = forms.CharField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    name = forms.CharField(label="Name", max_length=200)
    field_order = ["email", "name", "new_password", "confirm_password"]


class AdminSetPasswordForm(NewPasswordForm):
    must_change = forms.BooleanField(
        label="Ask the person to choose their own password at the next sign-in",
        required=False,
        initial=True,
    )


class NotificationPreferenceForm(forms.Form):
    email_notifications = forms.BooleanField(
        label="Email me about my tickets",
        required=False,
        help_text="New tickets, replies, solved tickets and assignments. Security mail such as "
        "sign-in codes, password resets and new-device alerts is always sent.",
    )
