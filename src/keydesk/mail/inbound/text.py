"""Text out of mail: HTML bodies turned into plain text, and quoted earlier replies cut off.

No HTML from a mail is ever rendered: an HTML-only message becomes text here (scripts,
styles and other non-content elements dropped, block elements as line breaks, quotes as
`> ` lines), and the pages escape that text like any other.
"""

import re

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag

from keydesk.mail.outbound.notifications import REPLY_ABOVE

_DROPPED = frozenset(
    {
        "head",
        "title",
        "script",
        "style",
        "template",
        "noscript",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
        "canvas",
        "audio",
        "video",
        "select",
        "button",
        "input",
        "textarea",
    }
)
_BLOCKS = frozenset(
    {
        "address",
        "article",
        "aside",
        "div",
        "dl",
        "dt",
        "dd",
        "fieldset",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tr",
        "ul",
    }
)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_RUNS = re.compile(r"\n{3,}")


def _render(node) -> str:
    if isinstance(node, NavigableString):
        # Comments, CDATA, doctypes and processing instructions are not content.
        if isinstance(node, PreformattedString):
            return ""
        return re.sub(r"\s+", " ", str(node))
    if not isinstance(node, Tag):
        return ""
    name = (node.name or "").lower()
    if name in _DROPPED:
        return ""
    if name == "br":
        return "\n"
    if name == "img":
        alt = " ".join((node.get("alt") or "").split())
        return f"[{alt}]" if alt else ""
    inner = "".join(_render(child) for child in node.children)
    if name == "blockquote":
        lines = [line.strip() for line in inner.strip("\n").split("\n")]
        return "\n" + "\n".join(f"> {line}".rstrip() for line in lines) + "\n"
    if name == "li":
        return "\n- " + inner.strip()
    if name in ("td", "th"):
        return inner.strip() + "  "
    if name == "a":
        href = (node.get("href") or "").strip()
        text = inner.strip()
        if href.lower().startswith(("http://", "https://")) and href != text:
            return f"{inner} <{href}>" if text else href
        return inner
    if name in _BLOCKS:
        return "\n" + inner + "\n"
    return inner


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body; never any markup."""
    soup = BeautifulSoup(html, "html.parser")
    try:
        text = _render(soup)
    except RecursionError:
        # Absurdly deep nesting: the flat text of every string, without the layout.
        for tag in soup.find_all(list(_DROPPED)):
            tag.decompose()
        text = soup.get_text("\n")
    return _tidy(text)


_ATTRIBUTION = re.compile(
    r"^(on|le|am|el|il|op|em|den|på)\s.{0,400}?"
    r"(wrote|écrit|schrieb|escribió|scritto|schreef|escreveu|skrev)\b.{0,300}?:\s*$",
    re.IGNORECASE | re.DOTALL,
)
_SEPARATORS = (
    re.compile(r"^-{2,}\s*original message\s*-{2,}$", re.IGNORECASE),
    re.compile(r"^-{2,}\s*(ursprüngliche nachricht|message d'origine)\s*-{2,}$", re.IGNORECASE),
    re.compile(r"^_{20,}$"),
)
_HEADER_BLOCK_START = re.compile(r"^\*?(from|von|de)\s*:\*?\s", re.IGNORECASE)
_HEADER_BLOCK_NEXT = re.compile(
    r"^\*?(sent|date|to|subject|gesendet|an|betreff|envoyé|à|objet)\s*:", re.IGNORECASE
)


def _quote_starts_at(lines: list[str], index: int) -> bool:
    line = lines[index].strip()
    if not line:
        return False
    if REPLY_ABOVE in line:
        return True
    if any(pattern.match(line) for pattern in _SEPARATORS):
        return True
    # "On Mon, 1 Jan 2024, Carla <carla@example.com> wrote:", often wrapped over two lines.
    joined = line
    for extra in range(2):
        if _ATTRIBUTION.match(joined):
            return True
        if index + extra + 1 >= len(lines):
            break
        joined = f"{joined} {lines[index + extra + 1].strip()}"
    # Outlook's "From: … Sent: … To: … Subject: …" block.
    if _HEADER_BLOCK_START.match(line):
        following = [text.strip() for text in lines[index + 1 : index + 5]]
        return sum(1 for text in following if _HEADER_BLOCK_NEXT.match(text)) >= 2
    return False


def trim_quoted(text: str) -> str:
    """The new part of a reply: without the earlier messages mail clients quote below it.

    Cuts at the first attribution line ("On … wrote:"), "Original Message" separator,
    Outlook header block or Keydesk's own "reply above this line" marker, and drops `>`
    lines. A message that would be left empty is kept whole.
    """
    lines = text.split("\n")
    for index in range(len(lines)):
        if _quote_starts_at(lines, index):
            lines = lines[:index]
            break
    kept = [line for line in lines if not line.lstrip().startswith(">")]
    trimmed = _BLANK_RUNS.sub("\n\n", "\n".join(kept)).strip()
    return trimmed or text.strip()
