"""Schemas shared by the app routers: references to people and teams, and the error shape."""

from datetime import datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import ConfigDict, StrictInt

from .pagination import BIGINT_MAX

# An id a client sends: a JSON integer that fits a database key, never a string or a float.
ObjectId = Annotated[StrictInt, Field(ge=1, le=BIGINT_MAX)]


class InputSchema(Schema):
    """Request bodies refuse unknown keys, so a misspelt field fails instead of being ignored."""

    model_config = ConfigDict(extra="forbid")


class PersonRef(Schema):
    id: int
    email: str
    name: str


class TeamRef(Schema):
    id: int
    name: str


class FieldError(Schema):
    field: str | None
    message: str


class Problem(Schema):
    """RFC 9457 problem details, sent as `application/problem+json`."""

    type: str = Field(..., examples=["https://keydesk.dev/problems/not_found"])
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None
    resets_at: datetime | None = Field(
        None,
        description="With 429 `creation_limited`: when today's creation limit resets (UTC).",
    )
