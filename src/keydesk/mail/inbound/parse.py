"""Reading a raw message: sender, subject, threading headers, text body and attachments.

Mail in the wild is often broken: unknown or wrong charsets, raw 8-bit headers, missing
headers, parts nested deep. Reading never trusts a header to parse: each one that does not
parse under the modern policy is read again the old way, and text in an unknown charset is
decoded as UTF-8 or Windows-1252 with replacement characters. Only a message without any
usable sender address is beyond use (`UnusableMessage`).
"""

import mimetypes
import re
from contextlib import suppress
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from keydesk.tickets.models import BODY_MAX, SUBJECT_MAX

from .text import html_to_text

MAX_ATTACHMENTS = 100
MAX_DEPTH = 20
NO_SUBJECT = "(no subject)"
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})


class UnusableMessage(Exception):
    """The message cannot become a ticket or comment (e.g. no sender address at all).

    `subject` and `message_id` are what could be read, for the email log.
    """

    subject = ""
    message_id = ""


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False


@dataclass
class ParsedEmail:
    message_id: str
    in_reply_to: list[str]
    references: list[str]
    sender: str
    sender_name: str
    subject: str
    text: str
    language: str | None
    auto_submitted: bool
    attachments: list[ParsedAttachment] = field(default_factory=list)
    skipped_attachments: int = 0

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this one answers, nearest first."""
        seen, ordered = set(), []
        for message_id in [*self.in_reply_to, *reversed(self.references)]:
            if message_id not in seen:
                seen.add(message_id)
                ordered.append(message_id)
        return ordered


def clean_text(value: str) -> str:
    """Text safe to store: raw 8-bit bytes decoded, no NUL or other control characters."""
    if _has_8bit(value):
        raw = value.encode("utf-8", "surrogateescape")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode("cp1252", "replace")
    value = value.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", value)


def _one_line(value: str) -> str:
    return " ".join(clean_text(value).split())


def _has_8bit(value: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in value)


class _Headers:
    """Header values of one message: the modern parser first, the raw value as fallback."""

    def __init__(self, modern: EmailMessage, compat: Message):
        self.modern = modern
        self.raws: dict[str, str] = {}
        for name, value in compat.raw_items():
            self.raws.setdefault(name.lower(), value)

    def raw(self, name: str) -> str:
        value = self.raws.get(name.lower())
        return "" if value is None else _one_line(value)

    def get(self, name: str) -> str:
        raw = self.raws.get(name.lower())
        if raw is None:
            return ""
        if _has_8bit(raw) or "=?" not in raw:
            # Nothing encoded, or raw 8-bit bytes against the standard (which the modern
            # parser would replace): the value is the text as it stands.
            return _one_line(raw)
        try:
            value = self.modern.get(name)
            return "" if value is None else _one_line(str(value))
        except Exception:  # a header the modern parser chokes on: decode it the old way
            try:
                return _one_line(str(make_header(decode_header(raw))))
            except Exception:
                return _one_line(raw)


def _valid_address(address: str) -> str:
    address = (address or "").strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        return ""
    return address if len(address) <= 254 else ""


def _sender(headers: _Headers, envelope_from: str) -> tuple[str, str]:
    """(address, display name) from From, else the envelope sender."""
    name, address = "", ""
    with suppress(Exception):  # a From the modern parser chokes on: read the raw one below
        parsed = headers.modern["From"]
        if parsed is not None and parsed.addresses:
            first = parsed.addresses[0]
            name, address = first.display_name, first.addr_spec
    address = _valid_address(clean_text(address))
    if not address:
        pairs = getaddresses([headers.raw("From")]) or [parseaddr(headers.raw("From"))]
        name, raw_address = pairs[0] if pairs else ("", "")
        address = _valid_address(clean_text(raw_address))
    if not address:
        name, address = "", _valid_address(envelope_from)
    if not address:
        raise UnusableMessage("No valid sender address in From or in the envelope.")
    return address, _one_line(name)[:200]


def _message_ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def _auto_submitted(headers: _Headers, envelope_from: str) -> bool:
    """Auto-replies, bounces and bulk mail (RFC 3834 and common practice): never answered."""
    if envelope_from == "":
        return True  # a bounce or another delivery report: the null return path
    if headers.get("Auto-Submitted").lower() not in ("", "no"):
        return True
    if headers.get("Precedence").lower() in _BULK_PRECEDENCE:
        return True
    if headers.get("X-Autoreply").lower() not in ("", "no"):
        return True
    return bool(headers.get("X-Auto-Response-Suppress"))


def _decode_text(part: Message) -> str:
    """A text part's content, whatever its charset claims: the declared charset if the bytes
    are valid in it, else UTF-8, else Windows-1252 (what mislabelled mail mostly is)."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a transfer encoding too broken to undo: take the text as it stands
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        payload = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    try:
        declared = part.get_content_charset() or "utf-8"
    except Exception:
        declared = "utf-8"
    for charset in (declared, "utf-8", "cp1252", "latin-1"):
        try:
            return clean_text(payload.decode(charset))
        except (LookupError, UnicodeDecodeError):
            continue
    return clean_text(payload.decode("utf-8", "replace"))


def _forwarded_bytes(part: Message) -> bytes:
    inner = part.get_payload()
    inner = inner[0] if isinstance(inner, list) and inner else inner
    if not isinstance(inner, Message):
        return b""
    for serialise in (policy.SMTP, policy.compat32):
        with suppress(Exception):  # a forwarded message too broken to write out again
            return inner.as_bytes(policy=serialise)
    return b""


def _part_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        return _forwarded_bytes(part)
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if payload is None:
        raw = part.get_payload()
        if isinstance(raw, bytes):
            return raw
        return str(raw if isinstance(raw, str) else "").encode("utf-8", "surrogateescape")
    return payload


def _safe_filename(raw: str | None, content_type: str, index: int) -> str:
    name = clean_text(raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    name = " ".join(name.split())
    if not name:
        extension = mimetypes.guess_extension(content_type) or ""
        if content_type == "message/rfc822":
            extension = ".eml"
        name = f"attachment-{index}{extension}"
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: 200 - len(extension) - 1] + dot + extension) if dot else name[:200]
    return name


def _filename(part: Message) -> str | None:
    try:
        return part.get_filename()
    except Exception:
        return None


def _has_content_id(part: Message) -> bool:
    try:
        return bool(part.get("Content-ID"))
    except Exception:
        return False


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


@dataclass
class _Walk:
    body: Message | None
    extra_text: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    skipped: int = 0

    def attach(self, part: Message) -> None:
        if len(self.attachments) >= MAX_ATTACHMENTS:
            self.skipped += 1
            return
        content_type = part.get_content_type()
        disposition = _disposition(part)
        self.attachments.append(
            ParsedAttachment(
                filename=_safe_filename(_filename(part), content_type, len(self.attachments) + 1),
                content_type=content_type[:127],
                data=_part_bytes(part),
                inline=disposition == "inline" or (not disposition and _has_content_id(part)),
            )
        )

    def visit(self, part: Message, depth: int, in_alternative: bool) -> None:
        if part is self.body:
            return
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            self.attach(part)  # a forwarded message stays whole, as a .eml file
            return
        if part.is_multipart():
            if depth >= MAX_DEPTH:
                return  # absurd nesting: the parts below stay in the raw message only
            alternative = content_type == "multipart/alternative"
            try:
                children = list(part.iter_parts())
            except Exception:
                children = [p for p in part.get_payload() if isinstance(p, Message)]
            for child in children:
                self.visit(child, depth + 1, alternative)
            return
        is_text = content_type in ("text/plain", "text/html")
        if is_text and not _filename(part) and _disposition(part) != "attachment":
            # Other versions of the body, or more body text around inline images.
            if not in_alternative and content_type == "text/plain":
                self.extra_text.append(_decode_text(part))
            return
        self.attach(part)


def _body_part(message: EmailMessage) -> Message | None:
    try:
        return message.get_body(preferencelist=("plain", "html"))
    except Exception:
        return None


def _text_of(part: Message | None) -> str:
    if part is None:
        return ""
    text = _decode_text(part)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_message(raw: bytes, *, envelope_from: str = "") -> ParsedEmail:
    """Everything processing needs from a raw message; raises UnusableMessage when nothing is."""
    modern = message_from_bytes(raw, policy=policy.default)
    # The lenient reading of the top-level headers only: the body is not parsed twice.
    compat = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
    headers = _Headers(modern, compat)
    subject = headers.get("Subject")[:SUBJECT_MAX] or NO_SUBJECT
    message_ids = _message_ids(headers.get("Message-ID")) or _message_ids(headers.raw("Message-ID"))
    try:
        sender, sender_name = _sender(headers, envelope_from)
    except UnusableMessage as exc:
        exc.subject, exc.message_id = subject, message_ids[0] if message_ids else ""
        raise
    body = _body_part(modern)
    if body is None and not modern.is_multipart() and modern.get_content_maintype() == "multipart":
        body = modern  # a multipart without parts (no boundary): its text is all there is
    walk = _Walk(body=body)
    if modern.is_multipart() or modern.get_content_type() == "message/rfc822":
        walk.visit(modern, 0, False)
    elif body is None:
        walk.attach(modern)  # a single part that is not text: keep it as a file
    text = "\n\n".join(t.strip() for t in [_text_of(body), *walk.extra_text] if t.strip())
    if len(text) > BODY_MAX:
        text = text[: BODY_MAX - 100].rstrip() + "\n\n[Shortened: see the raw message.]"
    language = headers.get("Content-Language").split(",")[0].strip()[:35] or None
    return ParsedEmail(
        message_id=message_ids[0] if message_ids else "",
        in_reply_to=_message_ids(headers.raw("In-Reply-To")),
        references=_message_ids(headers.raw("References")),
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        text=text,
        language=language,
        auto_submitted=_auto_submitted(headers, envelope_from),
        attachments=walk.attachments,
        skipped_attachments=walk.skipped,
    )
