"""Client file names are labels only; names that look like paths are refused."""

import re

from livetalking.errors import InvalidInput

SAFE_FILENAME_PATTERN = r"^[^./\\\x00-\x1f][^/\\\x00-\x1f]{0,254}$"
_SAFE_NAME = re.compile(SAFE_FILENAME_PATTERN)


def check_filename(filename: str) -> str:
    """Refuse names with paths, control characters or a leading dot."""
    if not _SAFE_NAME.fullmatch(filename):
        raise InvalidInput(f"the file name {filename!r} is not allowed: no paths, dot-names or control characters",
                           code="upload.bad_filename")
    return filename
