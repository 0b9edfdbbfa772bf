"""Text out of mail: quoted replies trimmed in the common styles, HTML turned into plain text."""

import pytest

from keydesk.mail.inbound.text import html_to_text, trim_quoted
from keydesk.mail.outbound.notifications import REPLY_ABOVE

QUOTES = {
    "gmail": "Thanks!\n\nOn Mon, Mar 2, 2026 at 9:14 AM Acme <support@acme.localhost> wrote:\n"
    "> Hello\n",
    "wrapped attribution": "Thanks!\n\nOn Mon, Mar 2, 2026 at 9:14 AM Acme Support\n"
    "<support@acme.localhost> wrote:\n> Hello\n",
    "outlook": "Thanks!\n\n________________________________\nFrom: Acme\nSent: Monday\n"
    "To: Dana\nSubject: Hello\n\nHello",
    "outlook header block": "Thanks!\n\nFrom: Acme <support@acme.localhost>\n"
    "Sent: Monday, March 2\nTo: Dana\nSubject: [#1] Hello\n\nHello",
    "original message": "Thanks!\n-----Original Message-----\nHello",
    "german": "Thanks!\n\nAm 02.03.2026 um 09:14 schrieb Acme <support@acme.localhost>:\n> Hallo",
    "french": "Thanks!\n\nLe lun. 2 mars 2026 à 09:14, Acme <support@acme.localhost> a écrit :\n> Bonjour",
    "our marker": f"Thanks!\n\n{REPLY_ABOVE}\n\nHello Dana, we received your request.",
    "only quote lines": "Thanks!\n> Hello\n> there",
}


@pytest.mark.parametrize("name", list(QUOTES))
def test_quoted_replies_are_trimmed(name):
    assert trim_quoted(QUOTES[name]) == "Thanks!"


def test_interleaved_answers_keep_the_answers():
    text = "> Which version?\n4.2\n> Which system?\nLinux"
    assert trim_quoted(text) == "4.2\nLinux"


def test_a_message_that_is_all_quote_is_kept_whole():
    assert trim_quoted("> only a quote\n> nothing new") == "> only a quote\n> nothing new"


def test_ordinary_text_is_left_alone():
    text = "On Monday the printer jammed.\nFrom: the third floor.\nIt wrote: error 42 and stopped"
    assert trim_quoted(text) == text


def test_html_becomes_text_without_any_markup():
    html = (
        "<!DOCTYPE html><html><head><title>T</title><style>b{}</style></head><body>"
        "<!-- a comment --><h1>Title</h1><p>One&nbsp;&amp; two<br>three</p>"
        "<ul><li>a</li><li>b</li></ul><table><tr><td>x</td><td>y</td></tr></table>"
        "<script>evil()</script><a href='javascript:alert(1)'>link</a> "
        "<a href='https://example.test/'>https://example.test/</a>"
        "<div><img src='x.png'></div><![CDATA[ignored]]></body></html>"
    )
    assert html_to_text(html) == (
        "Title\n\nOne & two\nthree\n\n- a\n- b\n\nx y\n\nlink https://example.test/"
    )


def test_absurdly_deep_html_still_gives_its_text():
    html = "<div>" * 5000 + "deep" + "</div>" * 5000
    assert html_to_text(html) == "deep"
