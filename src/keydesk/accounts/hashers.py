"""Password hashing: Argon2id through argon2-cffi, at no less than OWASP's minimum."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class KeydeskArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id at 19 MiB, t=2, p=1 (OWASP Password Storage Cheat Sheet's first option).

    Django's `must_update` compares these with a stored hash's parameters, so hashes made with
    other parameters are upgraded at the next successful sign-in.
    """

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
