"""The tenant password policy: every rule a new password breaks, named at once.

NIST SP 800-63B and OWASP ASVS 2.1 guide the defaults: length over composition (character
classes are off unless an admin turns them on), a breached/common list, no personal words.
"""

import re
import string
from datetime import timedelta
from functools import lru_cache

from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.utils import timezone

from keydesk.core.models import tenant_settings

from .models import PasswordHistory, PasswordPolicy, User

_SYMBOLS = set(string.punctuation) | {" "}


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    return frozenset(CommonPasswordValidator().passwords)


def policy_for(tenant) -> PasswordPolicy:
    """The tenant's policy; a tenant that never saved one gets the defaults."""
    return tenant_settings(PasswordPolicy, tenant)


def _personal_words(user: User) -> set[str]:
    words = set()
    local = (user.email or "").split("@")[0].lower()
    if len(local) >= 3:
        words.add(local)
    words.update(w for w in re.split(r"[^\w]+", local) if len(w) >= 3)
    words.update(w for w in re.split(r"\s+", (user.name or "").lower()) if len(w) >= 3)
    return words


def _strength_score(password: str, user: User) -> int:
    from zxcvbn import zxcvbn

    # zxcvbn's cost grows with length; the first 100 characters decide the score.
    return zxcvbn(password[:100], user_inputs=sorted(_personal_words(user)))["score"]


def _reused(password: str, user: User, count: int) -> bool:
    if count == 0 or user.pk is None:
        return False
    if user.has_usable_password() and check_password(password, user.password):
        return True
    earlier = PasswordHistory.objects.filter(user=user).values_list("password", flat=True)
    return any(check_password(password, encoded) for encoded in earlier[: max(count - 1, 0)])


def password_problems(password: str, *, user: User, policy: PasswordPolicy) -> list[str]:
    """Every rule of `policy` that `password` breaks, in words a person can act on."""
    problems = []
    if len(password) < policy.min_length:
        problems.append(f"Use at least {policy.min_length} characters.")
    if len(password) > policy.max_length:
        problems.append(f"Use at most {policy.max_length} characters.")
    if policy.require_upper and not any(c.isupper() for c in password):
        problems.append("Include an uppercase letter.")
    if policy.require_lower and not any(c.islower() for c in password):
        problems.append("Include a lowercase letter.")
    if policy.require_digit and not any(c.isdigit() for c in password):
        problems.append("Include a digit.")
    if policy.require_symbol and not any(c in _SYMBOLS for c in password):
        problems.append("Include a symbol.")
    lowered = password.lower().strip()
    if policy.reject_common and lowered in _common_passwords():
        problems.append("This password is too common.")
    if policy.reject_personal and any(word in lowered for word in _personal_words(user)):
        problems.append("Do not use your name or email address in the password.")
    if policy.min_strength and _strength_score(password, user) < policy.min_strength:
        problems.append("This password is too easy to guess; a longer passphrase helps.")
    if _reused(password, user, policy.history_count):
        problems.append(f"Do not reuse one of your last {policy.history_count} passwords.")
    return problems


def password_change_due(user: User) -> bool:
    """Whether the person must choose a new password before their session starts."""
    if user.must_change_password:
        return True
    max_age = policy_for(user.tenant).max_age_days
    if not max_age or not user.has_usable_password():
        return False
    changed = user.password_changed_at or user.created_at
    return timezone.now() - changed > timedelta(days=max_age)
