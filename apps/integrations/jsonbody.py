"""The one JSON reader for request bodies: the API's parser and the CRM webhook both use it.

Python's `json` raises RecursionError (not ValueError) on input nested a few thousand
levels deep, and even a body it can parse, nested a thousand deep, can blow the stack later
(rendering an error that echoes it, adapting it to jsonb). So bodies deeper than
MAX_DEPTH are refused here, as every other malformed body is: with a ValueError whose
message the caller turns into its 400.
"""

from __future__ import annotations

import json
from typing import Any

# No body the API accepts is nested deeper than a handful of levels; 64 leaves room.
MAX_DEPTH = 64


class JsonRefused(ValueError):
    """The body is not JSON we read; the message says why."""


def _refuse_constant(name):
    # NaN and Infinity are not JSON; accepting them turns into database errors later.
    raise JsonRefused(f"{name} is not valid JSON")


def _depth_exceeds(value: Any, limit: int) -> bool:
    # Iterative: a recursive walk would hit the very limit this guards against.
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def json_body_loads(raw: bytes, *, encoding: str = "utf-8") -> Any:
    """Parse a request body; raises JsonRefused with a message fit for a 400."""
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        raise JsonRefused(f"The body is not {encoding} text: {error}")
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise JsonRefused(f"The JSON is nested too deeply (more than {MAX_DEPTH} levels).")
    except JsonRefused:
        raise
    except ValueError as error:
        raise JsonRefused(str(error))
    if _depth_exceeds(data, MAX_DEPTH):
        raise JsonRefused(f"The JSON is nested too deeply (more than {MAX_DEPTH} levels).")
    return data
