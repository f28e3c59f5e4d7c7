"""Client file names are labels only; names that look like paths are refused."""

import re

from livetalking.errors import InvalidInput

_SAFE_NAME = re.compile(r"^[^/\\\x00-\x1f]{1,255}$")


def check_filename(filename: str) -> str:
    """Refuse names with paths, control characters or a leading dot."""
    if not _SAFE_NAME.match(filename) or filename.startswith("."):
        raise InvalidInput(f"the file name {filename!r} is not allowed: no paths, dot-names or control characters",
                           code="upload.bad_filename")
    return filename
