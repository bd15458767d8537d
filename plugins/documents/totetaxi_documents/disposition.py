"""``Content-Disposition: attachment`` with a user's file name, safely (RFC 6266 and 5987).

The header carries an ASCII fallback (``filename="..."``: non-ASCII letters reduced to their
base letter or ``_``, quotes, backslashes, path separators and control characters replaced) and
the exact name percent-encoded in UTF-8 (``filename*=UTF-8''...``), which every current browser
prefers. Nothing a client typed can end the header, add a parameter or name a path.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

#: Characters never kept in the ASCII fallback: they would end or break the quoted string, or
#: name a directory.
UNSAFE = set('"\\/:*?<>|;') | {chr(c) for c in range(32)} | {chr(127)}


def safe_name(filename: str, fallback: str = "document") -> str:
    """The last path component of ``filename`` without control characters (what we keep as the
    original name); ``fallback`` when nothing is left."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    return name[:200] or fallback


def ascii_fallback(filename: str) -> str:
    decomposed = unicodedata.normalize("NFKD", filename)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join("_" if (c in UNSAFE or ord(c) > 126) else c for c in plain) or "document"


def attachment(filename: str) -> str:
    """The header's value for downloading ``filename``."""
    name = safe_name(filename)
    return (
        f"attachment; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"
    )
