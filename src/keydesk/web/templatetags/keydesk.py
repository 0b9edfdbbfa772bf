"""Template filters shared by Keydesk's pages."""

import json

from django import template

register = template.Library()


@register.filter
def compact_json(value) -> str:
    """A string as itself; lists, numbers and objects as short JSON (the template escapes it)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
