"""CSV cells that a spreadsheet will not run as formulas (CSV injection), and back again."""

# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_for_spreadsheet(value) -> str:
    """The cell's text, with a leading apostrophe when it would start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell_from_spreadsheet(text: str) -> str:
    """Undo `cell_for_spreadsheet`, so an exported file imports as it was."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
