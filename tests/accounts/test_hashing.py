"""Passwords are stored as Argon2id at no less than OWASP's minimum, and upgraded on sign-in."""

from argon2 import PasswordHasher, extract_parameters
from django.contrib.auth.hashers import make_password

from keydesk.accounts.models import User
from tests.conftest import PASSWORD

PRODUCTION_HASHERS = [
    "keydesk.accounts.hashers.KeydeskArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def test_new_passwords_are_argon2id_at_owasp_minimum(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    encoded = make_password("a long enough passphrase")
    assert encoded.startswith("argon2$argon2id$")
    params = extract_parameters(encoded.removeprefix("argon2"))
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2
    assert params.parallelism >= 1


def test_weaker_hash_is_upgraded_on_sign_in(acme, settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    User.objects.filter(pk=acme.agent.pk).update(password="argon2" + weak)
    response = acme.client().post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    assert response.status_code == 302
    stored = User.objects.get(pk=acme.agent.pk).password
    assert extract_parameters(stored.removeprefix("argon2")).memory_cost == 64 * 1024


def test_pbkdf2_hash_is_upgraded_to_argon2_on_sign_in(acme, settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    User.objects.filter(pk=acme.agent.pk).update(
        password=make_password(PASSWORD, hasher="pbkdf2_sha256")
    )
    acme.client().post("/login", {"email": "agent@acme.test", "password": PASSWORD})
    assert User.objects.get(pk=acme.agent.pk).password.startswith("argon2$argon2id$")
