"""Rules as CSV: the columns, writing every rule, and reading a file into checked rule fields.

The import is all or nothing, so reading collects every bad row (by line) before anything is
written. Cells that a spreadsheet would run as a formula are written with a leading
apostrophe, and read back without it.
"""

import csv
import io
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime

from keydesk.core.errors import ApplicationError
from keydesk.core.spreadsheet import cell_for_spreadsheet, cell_from_spreadsheet

from .values import rule_fields_clean

CSV_COLUMNS = (
    "list",
    "kind",
    "value",
    "include_subdomains",
    "actions",
    "audience",
    "note",
    "expires_at",
)
MAX_IMPORT_ROWS = 200_000


def rules_to_csv(rules) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for rule in rules:
        writer.writerow(
            [
                rule.list_type,
                rule.kind,
                cell_for_spreadsheet(rule.value),
                "yes" if rule.include_subdomains else "no",
                " ".join(rule.actions),
                rule.audience,
                cell_for_spreadsheet(rule.note),
                rule.expires_at.isoformat() if rule.expires_at else "",
            ]
        )
    return out.getvalue()


class ImportFailed(ApplicationError):
    """Every bad row, by line; nothing was imported."""

    def __init__(self, errors: list[str]):
        shown = errors[:50]
        more = f" (and {len(errors) - 50} more)" if len(errors) > 50 else ""
        super().__init__(
            "import_failed",
            f"Nothing was imported: {len(errors)} bad row(s){more}.",
            field="file",
            errors=[{"field": "file", "message": line} for line in shown],
        )
        self.lines = errors


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("", "no", "false", "0", "n"):
        return False
    if value in ("yes", "true", "1", "y"):
        return True
    raise ApplicationError("invalid_bool", f"{raw!r} is not yes or no.", field="include_subdomains")


def _parse_expiry(raw: str) -> datetime | None:
    if not raw.strip():
        return None
    parsed = parse_datetime(raw.strip())
    if parsed is None:
        raise ApplicationError(
            "invalid_expiry",
            f"{raw.strip()!r} is not a date and time such as 2027-01-31T18:00:00+00:00.",
            field="expires_at",
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _rule_fields_from_cells(cell: dict[str, str]) -> dict:
    return rule_fields_clean(
        list_type=cell["list"].strip().lower(),
        kind=cell["kind"].strip().lower(),
        value=cell_from_spreadsheet(cell["value"]),
        include_subdomains=_parse_bool(cell.get("include_subdomains", "")),
        actions=cell.get("actions", "").replace(",", " ").split(),
        audience=cell.get("audience", "").strip().lower() or "both",
        note=cell_from_spreadsheet(cell.get("note", "")),
        expires_at=_parse_expiry(cell.get("expires_at", "")),
    )


def rows_from_csv(text: str) -> tuple[list[dict], list[str]]:
    """Cleaned rule fields per row, and the errors as "line N: field: message"."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        return [], [f"line 1: {exc}"]
    missing = [c for c in ("list", "kind", "value") if c not in header]
    if missing:
        return [], [f"line 1: the header lacks the column(s) {', '.join(missing)}"]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        return [], [f"line 1: unknown column(s) {', '.join(unknown)}"]
    reader.fieldnames = header
    rows, errors = [], []
    try:
        for row in reader:
            line = reader.line_num
            if len(rows) + len(errors) >= MAX_IMPORT_ROWS:
                errors.append(f"line {line}: more than {MAX_IMPORT_ROWS} rows")
                break
            if None in row:
                errors.append(f"line {line}: more cells than columns")
                continue
            cell = {k: (v or "") for k, v in row.items()}
            if not any(v.strip() for v in cell.values()):
                continue  # a blank line
            try:
                rows.append(_rule_fields_from_cells(cell))
            except ApplicationError as exc:
                errors.append(f"line {line}: {exc.field or 'row'}: {exc.message}")
    except csv.Error as exc:  # a cell the csv module cannot read (too long, a stray NUL)
        errors.append(f"line {reader.line_num + 1}: {exc}")  # the line being read
    return rows, errors
