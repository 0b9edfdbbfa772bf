"""Phone numbers in E.164 form ("+" and 8 to 15 digits), the only form Keydesk stores."""

import re

from keydesk.core.errors import ApplicationError

_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
# Separators people type between digit groups; anything else makes the number invalid.
_SEPARATORS = re.compile(r"[\s().-]")


def normalize_number(value: str, *, field: str = "phone", label: str = "Phone number") -> str:
    """`value` in E.164 without separators; ApplicationError naming `field` when it is not one."""
    number = _SEPARATORS.sub("", value or "")
    if not _E164.fullmatch(number):
        raise ApplicationError(
            "invalid_phone",
            f"{label}: enter it in international format, a + and the country code, "
            "8 to 15 digits in all (for example +44 20 7946 0958).",
            field=field,
        )
    return number


def last_digits(number: str) -> str:
    """The last four digits, enough for a person to recognise their own number."""
    return number[-4:]


def mask_number(number: str) -> str:
    """The number with all but its last four digits hidden, for logs and events."""
    return "+" + "*" * max(len(number) - 5, 0) + last_digits(number)
