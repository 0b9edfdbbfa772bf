"""The one error type services raise; the web, the API and the CLI each render it once."""


class ApplicationError(Exception):
    """A rule was broken; `code` is stable for clients, `message` is for people.

    `status` is the HTTP status the API answers with; `field` names the input at fault.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        status: int = 400,
        errors: list[dict[str, str]] | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status
        self.errors = errors or ([{"field": field, "message": message}] if field else [])


class NotFound(ApplicationError):
    """Missing and not visible to this person answer the same, so ids of other tenants leak nothing."""

    def __init__(self, what: str = "object"):
        super().__init__("not_found", f"No such {what}.", status=404)


class PermissionDenied(ApplicationError):
    def __init__(self, message: str = "You are not allowed to do this."):
        super().__init__("forbidden", message, status=403)
