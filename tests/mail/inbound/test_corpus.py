"""Awkward mail: every message is accepted, kept byte for byte, and never stops the listener."""

import hashlib
import os
import random
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from keydesk.core.crypto import decrypt_bytes
from keydesk.mail.inbound.parse import MAX_ATTACHMENTS
from keydesk.tickets.models import Attachment, Ticket
from tests.conftest import run_worker

from .conftest import mail, stored

pytestmark = pytest.mark.django_db(transaction=True)

CRLF = b"\r\n"


def raw(*lines: bytes | str) -> bytes:
    return CRLF.join(line.encode() if isinstance(line, str) else line for line in lines) + CRLF


def nested(depth: int) -> bytes:
    lines = ["From: contact@acme.test", "Subject: Deep", "MIME-Version: 1.0"]
    for level in range(depth):
        lines += [f'Content-Type: multipart/mixed; boundary="b{level}"', "", f"--b{level}"]
    lines += ["Content-Type: text/plain", "", "At the bottom."]
    for level in reversed(range(depth)):
        lines += [f"--b{level}--"]
    return raw(*lines)


def many_attachments() -> bytes:
    message = mail(sender="contact@acme.test", subject="Many files")
    for n in range(MAX_ATTACHMENTS + 5):
        message.add_attachment(
            f"file {n}".encode(), maintype="text", subtype="plain", filename=f"f{n}.txt"
        )
    return message.as_bytes(policy=SMTP)


def forwarded() -> bytes:
    inner = mail(sender="boss@customer.test", subject="Original", body="The inner text.")
    outer = mail(sender="contact@acme.test", subject="Fwd: Original", body="See below.")
    outer.add_attachment(inner)
    return outer.as_bytes(policy=SMTP)


CORPUS = {
    "unknown charset": raw(
        "From: contact@acme.test",
        "Subject: Klingon",
        'Content-Type: text/plain; charset="x-klingon"',
        "",
        b"Qapla\xe9 \xff\xfe!",
    ),
    "wrong charset": raw(
        "From: contact@acme.test",
        "Subject: Latin",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: 8bit",
        "",
        b"Caf\xe9 cr\xe8me",
    ),
    "missing headers": raw("", "Only a body, not even a From."),
    "no sender at all": raw("Subject: Nobody", "", "Who sent this?"),
    "nested multiparts": nested(40),
    "non-UTF-8 headers": raw(
        b"From: Jos\xe9 Garc\xeda <contact@acme.test>",
        b"Subject: Caf\xe9 au lait",
        "Content-Type: text/plain; charset=iso-8859-1",
        "",
        b"R\xe9sum\xe9 attached.",
    ),
    "broken encoded words": raw(
        "From: =?utf-8?B?!!!not base64?= <contact@acme.test>",
        "Subject: =?x-unknown?Q?abc?= =?utf-8?Q?ok=ZZ?=",
        "",
        "Body.",
    ),
    "garbage bytes": random.Random(7).randbytes(20_000).replace(b"\r\n.", b"\r\nx"),
    "empty message": b"",
    "HTML only": raw(
        "From: contact@acme.test",
        "Subject: Fancy",
        "Content-Type: text/html; charset=utf-8",
        "",
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head>",
        "<body><p>Hello <b>team</b>,</p><p>see <a href='https://x.test/a'>this</a>.</p>",
        "<blockquote>old words</blockquote><img src='cid:x' alt='logo'></body></html>",
    ),
    "multipart without boundary": raw(
        "From: contact@acme.test",
        "Subject: No boundary",
        "Content-Type: multipart/mixed",
        "",
        "Text that belongs nowhere.",
    ),
    "broken base64": raw(
        "From: contact@acme.test",
        "Subject: Bad base64",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64",
        "",
        "SGVsbG8gd29ybGQ=!!!***not base64 at all",
    ),
    "unknown transfer encoding": raw(
        "From: contact@acme.test",
        "Subject: x-uuencode",
        "Content-Type: text/plain",
        "Content-Transfer-Encoding: x-rot13",
        "",
        "uryyb",
    ),
    "NUL bytes": raw("From: contact@acme.test", "Subject: Nul\x00ls", "", b"a\x00b\x00c"),
    "a very long line": raw("From: contact@acme.test", "Subject: Long", "", "word " * 20_000),
    "bad date and empty From": raw(
        "From: <>", "Date: yesterday-ish", "Subject: Odd", "", "Body of an odd one."
    ),
    "forwarded message": forwarded(),
    "more attachments than kept": many_attachments(),
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_awkward_mail_is_kept_and_never_stops_the_listener(acme_tx, listener, name):
    message = CORPUS[name]
    assert (
        listener.send(message, sender="contact@acme.test" if name != "no sender at all" else "")
        == {}
    )
    run_worker()
    [email] = stored(acme_tx)
    assert email.status in ("processed", "failed"), email.reason
    # Whatever became of it, the message is there exactly as sent (with SMTP's final CRLF).
    kept = decrypt_bytes(email.raw_encrypted)
    assert kept in (message, message + CRLF)
    # The listener goes on taking mail.
    assert listener.send(mail(sender="contact@acme.test", subject="Next")) == {}
    run_worker()
    assert stored(acme_tx)[-1].status == "processed"


def ticket_of(world, subject: str) -> Ticket:
    return Ticket.objects.get(tenant=world.tenant, subject=subject)


def test_what_the_awkward_mail_became(acme_tx, listener):
    for name, message in CORPUS.items():
        listener.send(message, sender="" if name == "no sender at all" else "contact@acme.test")
    run_worker()
    by_subject = {e.subject: e for e in stored(acme_tx)}
    assert "Qapla" in ticket_of(acme_tx, "Klingon").description
    assert ticket_of(acme_tx, "Latin").description == "Café crème"
    assert ticket_of(acme_tx, "Café au lait").description == "Résumé attached."
    assert ticket_of(acme_tx, "Deep").description == "At the bottom."
    html = ticket_of(acme_tx, "Fancy").description
    assert html == "Hello team,\n\nsee this <https://x.test/a>.\n\n> old words\n[logo]"
    assert "alert" not in html and "color" not in html
    assert by_subject["(no subject)"].status == "processed"  # the envelope sender stood in
    nobody = by_subject["Nobody"]
    assert (nobody.status, nobody.reason) == (
        "failed",
        "No valid sender address in From or in the envelope.",
    )
    assert "\x00" not in ticket_of(acme_tx, "Nulls").description
    fwd = ticket_of(acme_tx, "Fwd: Original")
    [eml] = Attachment.objects.filter(ticket=fwd)
    assert eml.filename.endswith(".eml") and b"The inner text." in eml.file.read()
    many = by_subject["Many files"]
    assert Attachment.objects.filter(ticket=many.ticket).count() == MAX_ATTACHMENTS
    assert "5 more attachments were not stored" in many.reason


def test_a_10_mb_attachment_is_stored_with_the_ticket(acme_tx, listener):
    data = os.urandom(10 * 1024 * 1024)
    message = mail(sender="contact@acme.test", subject="Big file", body="See attached.")
    message.add_attachment(
        data, maintype="application", subtype="octet-stream", filename="dump.bin"
    )
    assert listener.send(message) == {}
    run_worker()
    ticket = ticket_of(acme_tx, "Big file")
    [attachment] = Attachment.objects.filter(ticket=ticket)
    assert (attachment.filename, attachment.size) == ("dump.bin", len(data))
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    with attachment.file.open("rb") as handle:
        assert handle.read() == data


def test_filenames_from_mail_never_choose_a_path(acme_tx, listener):
    message = EmailMessage()
    message["From"] = "contact@acme.test"
    message["Subject"] = "Sneaky"
    message.set_content("Files")
    message.add_attachment(b"1", maintype="text", subtype="plain", filename="../../etc/passwd")
    message.add_attachment(b"2", maintype="image", subtype="png", filename="C:\\x\\..\\evil.png")
    message.add_attachment(b"3", maintype="application", subtype="pdf")
    listener.send(message)
    run_worker()
    files = Attachment.objects.filter(ticket=ticket_of(acme_tx, "Sneaky")).order_by("pk")
    assert [f.filename for f in files] == ["passwd", "evil.png", "attachment-3.pdf"]
    for attachment in files:
        assert attachment.file.name.startswith(f"attachments/{acme_tx.tenant.pk}/")
        assert ".." not in attachment.file.name
