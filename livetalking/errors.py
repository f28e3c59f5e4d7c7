"""Domain exceptions. Each carries a stable code; HTTP statuses and exit codes are chosen at the edges."""

from typing import Any


class LiveTalkingError(Exception):
    """Base of every error the platform reports to a user."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}


class InvalidInput(LiveTalkingError):
    """The request or its content breaks a rule (the message names rule and measured value)."""

    code = "invalid_input"

    @classmethod
    def from_validation(cls, errors: list[dict], prefix: str = "", code: str = "invalid_input") -> "InvalidInput":
        """One error listing every broken field of a pydantic validation (`details.errors`)."""
        problems = [{"field": ".".join(str(p) for p in e["loc"]), "problem": _problem(e)} for e in errors]
        message = prefix + "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return cls(message, code=code, details={"errors": problems})


def _problem(error: dict) -> str:
    """A validation error's message, with the parser's reason when the JSON itself was malformed."""
    reason = error.get("ctx", {}).get("error") if error.get("type") == "json_invalid" else None
    return f"{error['msg']}: {reason}" if reason else error["msg"]


class PayloadTooLarge(InvalidInput):
    """An upload is larger than the configured limit."""

    code = "upload.too_large"


class NotFound(LiveTalkingError):
    """The thing does not exist, or belongs to another tenant."""

    code = "not_found"


class Conflict(LiveTalkingError):
    """The thing exists but its state forbids the operation."""

    code = "conflict"


class Unauthenticated(LiveTalkingError):
    """No valid API key was presented."""

    code = "auth.unauthenticated"


class Forbidden(LiveTalkingError):
    """The key's role does not allow the operation."""

    code = "auth.forbidden"


class DatabaseBusy(LiveTalkingError):
    """The database stayed locked longer than the busy timeout (LT_DB_BUSY_TIMEOUT_S); the request may be retried."""

    code = "db.busy"


class StoreError(LiveTalkingError):
    """The artifact store refused a key or failed to read or write."""

    code = "store.error"


class IntegrityFailure(StoreError):
    """Stored content does not match its recorded sha256."""

    code = "store.integrity"


class TaskCancelled(LiveTalkingError):
    """A running task saw a cancel request and stopped."""

    code = "task.cancelled"


class MissingBaseModel(LiveTalkingError):
    """A pretrained file that models/base/ should hold is not there."""

    code = "base_model.missing"
