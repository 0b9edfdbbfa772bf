"""Page-number pagination: one COUNT and one LIMIT/OFFSET query on an indexed ordering."""

from ninja import Field, Schema

BIGINT_MAX = 2**63 - 1
MAX_PAGE_SIZE = 100
# Beyond this an OFFSET is pointless and only risks overflowing the database's integers.
MAX_PAGE = 1_000_000


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="1-based page number.")
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description="Items per page (1-100).")


def paginate(queryset, *, page: int, page_size: int) -> dict:
    """`{count, page, page_size, items}` for one page of an ordered queryset."""
    count = queryset.count()
    offset = (page - 1) * page_size
    items = list(queryset[offset : offset + page_size]) if offset < count else []
    return {"count": count, "page": page, "page_size": page_size, "items": items}
