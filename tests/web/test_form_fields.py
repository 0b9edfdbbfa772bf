"""How a form field renders (web/jinja2/web/field.html): label, input, help and errors tied to
the input, the optional marker; the same on every page."""

import re


def _field(html: str, name: str) -> str:
    match = re.search(
        rf'<div class="field[^"]*">(?:(?!<div class="field).)*?name="{name}".*?</div>', html, re.S
    )
    assert match, name
    return match.group(0)


def test_a_field_with_an_error_names_it_next_to_the_input(acme):
    client = acme.client(acme.agent)
    response = client.post(
        "/tickets/new", {"subject": "", "requester_email": "someone@example.com"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    subject = _field(html, "subject")
    assert 'class="field has-error"' in subject
    assert '<label for="id_subject">Subject</label>' in subject
    assert '<p class="field-error" id="id_subject_error">This field is required.</p>' in subject
    assert 'aria-invalid="true"' in subject
    assert 'aria-describedby="id_subject_error"' in subject


def test_help_text_and_the_optional_marker(acme):
    html = acme.client(acme.agent).get("/tickets/new").content.decode()
    requester = _field(html, "requester_email")
    assert '<p class="help" id="id_requester_email_helptext">' in requester
    assert 'aria-describedby="id_requester_email_helptext"' in requester
    description = _field(html, "description")
    assert '<span class="optional">(optional)</span>' in description
    assert "<textarea" in description


def test_an_optional_select_has_no_marker(acme):
    # Its first choice ("Any status") already says what leaving it empty means.
    html = acme.client(acme.agent).get("/tickets/").content.decode()
    assert '<span class="optional">(optional)</span>' in _field(html, "q")
    assert "(optional)" not in _field(html, "status")
    assert '<option value="open">Open</option>' in _field(html, "status")


def test_text_is_escaped(acme):
    client = acme.client(acme.agent)
    response = client.post(
        "/tickets/new",
        {"subject": '<script>alert("x")</script>', "requester_email": "not an address"},
    )
    subject = _field(response.content.decode(), "subject")
    assert "<script>" not in subject
    assert 'value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"' in subject


def test_a_select_renders_as_djangos_own_template_does():
    from django import forms
    from django.forms.renderers import Jinja2

    from keydesk.web.renderers import FormRenderer

    class Choice(forms.Form):
        pick = forms.ChoiceField(
            choices=[
                ("", "Any"),
                ("Fruit", [("a", "Apple <green>"), ("b", "Banana")]),
                ("c", 'Cherry "red"'),
            ],
            widget=forms.Select(attrs={"class": "wide", "disabled": False}),
        )
        several = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y"), ("z", "Z")])

    def rendered(renderer) -> list[str]:
        form = Choice({"pick": "b", "several": ["x", "z"]}, renderer=renderer)
        # Django's template puts line breaks between the options; only the markup counts.
        return [re.sub(r">\s+<", "><", str(form[name])) for name in ("pick", "several")]

    select = FormRenderer().get_template("django/forms/widgets/select.html")
    assert "keydesk" in select.template.filename  # Keydesk's template, not Django's
    ours = rendered(FormRenderer())
    assert ours == rendered(Jinja2())
    assert '<option value="b" selected>Banana</option>' in ours[0]
    assert "Apple &lt;green&gt;" in ours[0]
    assert '<option value="x" selected>X</option><option value="y">Y</option>' in ours[1]
