"""How forms render: Django's Jinja2 form renderer, with Keydesk's layout of a field."""

from django.forms.renderers import Jinja2


class FormRenderer(Jinja2):
    """Widgets and field groups (`{{ form.email.as_field_group }}`) render with Jinja2.

    Django ships its widget templates for Jinja2 too, and Jinja2 renders them several times
    faster than the template language: a page of forms is a few milliseconds cheaper. The
    field layout is `web/jinja2/web/field.html`; the pages themselves stay Django templates.
    """

    field_template_name = "web/field.html"
