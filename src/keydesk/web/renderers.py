"""How forms render: Django's Jinja2 form renderer, with Keydesk's layout of a field."""

from functools import cached_property
from pathlib import Path

import django.forms
from django.forms.renderers import Jinja2

# Keydesk's widget templates first, then Django's own. Only these two: no other app has form
# templates of its own (an app that brings some adds its `jinja2` folder here).
_TEMPLATE_DIRS = [
    Path(__file__).parent / "jinja2",
    Path(django.forms.__file__).parent / "jinja2",
]


class FormRenderer(Jinja2):
    """Widgets and field groups (`{{ form.email.as_field_group }}`) render with Jinja2.

    Django ships its widget templates for Jinja2 too, and Jinja2 renders them several times
    faster than the template language: a page of forms is a few milliseconds cheaper. The
    field layout is `web/jinja2/web/field.html`; the pages themselves stay Django templates.
    """

    field_template_name = "web/field.html"

    @cached_property
    def engine(self):
        # Django's renderer looks in its own templates first; here Keydesk's come first, so
        # `django/forms/widgets/select.html` is Keydesk's (options in place, not included).
        return self.backend(
            {"APP_DIRS": False, "DIRS": _TEMPLATE_DIRS, "NAME": "djangoforms", "OPTIONS": {}}
        )
