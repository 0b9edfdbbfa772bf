"""People of a tenant (staff and contacts), teams, and API tokens."""

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower

from keydesk.core.models import TenantOwned, TenantSettings


class UserManager(BaseUserManager):
    def create_superuser(self, username, email, password=None, **extra):
        """Creates a platform operator (no tenant) for /ops/; used by `keydesk manage createsuperuser`."""
        user = self.model(username=username, email=self.normalize_email(email), is_superuser=True)
        user.name = extra.get("name", username)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    """A person of one tenant, signing in with (tenant, email); or a platform operator (no tenant)."""

    class Kind(models.TextChoices):
        STAFF = "staff", "Staff"
        CONTACT = "contact", "Contact"

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MANAGER = "manager", "Manager"
        SUPERVISOR = "supervisor", "Supervisor"
        AGENT = "agent", "Agent"

    # Django's USERNAME_FIELD: an internal key, never shown; people sign in by email.
    username = models.CharField(max_length=64, unique=True, default=uuid.uuid4)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, null=True, blank=True, related_name="users"
    )
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.CONTACT)
    role = models.CharField(max_length=12, choices=Role.choices, blank=True)
    is_guest = models.BooleanField(
        "This user is a guest",
        default=False,
        help_text="Guests sign in only with a Temporary Access Pass and receive no email.",
    )
    language = models.CharField(
        max_length=35, blank=True, help_text="A language tag, e.g. en or fr-CA."
    )
    phone = models.CharField(max_length=32, blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    enforce_mfa = models.BooleanField(
        "Enforce 2FA",
        default=False,
        help_text="This person must use two-factor authentication, whatever the tenant's policy.",
    )
    must_change_password = models.BooleanField(
        default=False, help_text="Asked to choose a new password at the next sign-in."
    )
    email_notifications = models.BooleanField(
        "Email notifications about tickets",
        default=True,
        help_text="Mail about tickets (received, replied to, solved, assigned). Security mail "
        "such as sign-in codes, password resets and new-device alerts is always sent.",
    )
    is_active = models.BooleanField(default=True)
    is_superuser = models.BooleanField(default=False, help_text="Platform operator (no tenant).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "tenant", Lower("email"), name="accounts_user_unique_email_per_tenant"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "kind", "name"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @property
    def is_staff(self) -> bool:
        """Django admin access: platform operators only, never a tenant's people."""
        return self.is_superuser and self.tenant_id is None

    @property
    def is_staff_member(self) -> bool:
        return self.kind == self.Kind.STAFF

    @property
    def is_contact(self) -> bool:
        return self.kind == self.Kind.CONTACT

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_active and self.is_staff

    def has_module_perms(self, app_label) -> bool:
        return self.is_active and self.is_staff


class Team(TenantOwned):
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(User, related_name="teams", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("tenant", Lower("name"), name="accounts_team_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ApiToken(TenantOwned):
    """A named API credential; only a SHA-256 of the secret is kept (tokens carry 256 random bits)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class SignInSession(TenantOwned):
    """One signed-in browser session: how and when the person signed in, from where."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sign_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    methods = models.JSONField(
        default=list, help_text="Authentication methods used (RFC 8176 amr)."
    )
    auth_time = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-auth_time"]
        indexes = [models.Index(fields=["user", "ended_at"])]

    def __str__(self) -> str:
        return f"Session of {self.user_id} since {self.auth_time}"


class PasswordPolicy(TenantSettings):
    """A tenant's password requirements ("Account › Security › Password policy")."""

    ABSOLUTE_MIN_LENGTH = 8
    MAX_LENGTH_FLOOR = 64

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="password_policy"
    )
    min_length = models.PositiveSmallIntegerField(
        default=12, help_text="At least 8; NIST SP 800-63B asks for 8, we suggest 12 or more."
    )
    max_length = models.PositiveSmallIntegerField(
        default=128, help_text="At least 64, so passphrases and password managers fit."
    )
    require_upper = models.BooleanField("Require an uppercase letter", default=False)
    require_lower = models.BooleanField("Require a lowercase letter", default=False)
    require_digit = models.BooleanField("Require a digit", default=False)
    require_symbol = models.BooleanField("Require a symbol", default=False)
    reject_common = models.BooleanField(
        "Reject common passwords", default=True, help_text="About 20,000 most used passwords."
    )
    reject_personal = models.BooleanField(
        "Reject passwords containing the person's email name or name", default=True
    )
    min_strength = models.PositiveSmallIntegerField(
        default=0, help_text="zxcvbn score from 1 (weak) to 4 (strong) required; 0 turns it off."
    )
    history_count = models.PositiveSmallIntegerField(
        default=5, help_text="Refuse the last N passwords again; 0 turns it off."
    )
    max_age_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Ask for a new password after this many days; empty: never.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Password policy of {self.tenant_id}"


class PasswordHistory(TenantOwned):
    """Hashes of a person's earlier passwords, for the policy's reuse rule."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Earlier password of {self.user_id}"


class SignInProtection(TenantSettings):
    """A tenant's brute-force settings ("Account › Security › Sign-in protection")."""

    tenant = models.OneToOneField(
        "tenants.Tenant",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="sign_in_protection",
    )
    max_failures = models.PositiveSmallIntegerField(
        default=5, help_text="Consecutive failures that lock an account."
    )
    lock_minutes = models.PositiveIntegerField(
        default=15, help_text="First lock time; it doubles on each further lockout."
    )
    max_lock_minutes = models.PositiveIntegerField(default=24 * 60, help_text="Lock time cap.")
    forget_after_hours = models.PositiveIntegerField(
        default=12, help_text="Failures are forgotten after this quiet period."
    )
    ip_max_failures = models.PositiveIntegerField(
        default=50, help_text="Failures from one IP address, across accounts, that block it."
    )
    ip_window_minutes = models.PositiveIntegerField(default=10)
    ip_block_minutes = models.PositiveIntegerField(default=15)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Sign-in protection of {self.tenant_id}"


class AccountLockout(TenantOwned):
    """A person's consecutive sign-in failures and lock state."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="lockout")
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    lockouts = models.PositiveIntegerField(default=0, help_text="Lockouts since the last success.")

    def __str__(self) -> str:
        return f"Lockout state of {self.user_id}"


class IpFailureWindow(TenantOwned):
    """Sign-in failures from one IP address in one fixed window, across accounts."""

    ip = models.GenericIPAddressField()
    window_start = models.DateTimeField()
    failures = models.PositiveIntegerField(default=0)
    blocked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "ip", "window_start"], name="accounts_ip_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ip} since {self.window_start}"


class SessionPolicy(TenantSettings):
    """How long sessions last, per audience ("Account › Security › Sessions")."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="session_policy"
    )
    staff_idle_minutes = models.PositiveIntegerField(
        default=8 * 60, help_text="Staff are signed out after this long without activity."
    )
    staff_max_days = models.PositiveIntegerField(
        default=30, help_text="Staff sign in again after this many days, active or not."
    )
    contact_idle_minutes = models.PositiveIntegerField(default=8 * 60)
    contact_max_days = models.PositiveIntegerField(default=30)
    new_device_alerts = models.BooleanField(
        "Email an alert on sign-in from a new device", default=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Session policy of {self.tenant_id}"

    def limits_for(self, user: User) -> tuple[int, int]:
        """(idle minutes, absolute days) for this person's audience."""
        if user.kind == User.Kind.STAFF:
            return self.staff_idle_minutes, self.staff_max_days
        return self.contact_idle_minutes, self.contact_max_days


class KnownDevice(TenantOwned):
    """A browser a person signed in from before (its device cookie, hashed)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="known_devices")
    device_hash = models.CharField(max_length=64)
    user_agent = models.CharField(max_length=300, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "device_hash"], name="accounts_device_unique")
        ]

    def __str__(self) -> str:
        return f"Device of {self.user_id}"
