"""Password hashing: Argon2id through argon2-cffi, above OWASP's minimum."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class KeydeskArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id at 64 MiB, t=3, p=1: about 140 ms on one core of a current server.

    OWASP's floor is 19 MiB with t=2 (or 46 MiB with t=1); we spend more so that an offline
    guess costs more, while lockout and the per-IP throttle bound the online cost. Django's
    `must_update` compares these with a stored hash's parameters, so hashes made with other
    parameters (or another algorithm) are upgraded at the next successful sign-in.
    """

    time_cost = 3
    memory_cost = 64 * 1024
    parallelism = 1
