"""Size limits on values users store (run conf, variables): a 10 MB conf must not become a 13 MB page.

The limits are ``security.max_conf_bytes`` and ``security.max_variable_bytes``; checked here for
the API, the CLI and the UI alike. Breaking one is a ValueError, which every entry point reports
as bad input.
"""

from __future__ import annotations

import json
from typing import Any

from tandem.config import get_settings


def check_conf_size(conf: dict[str, Any] | None) -> None:
    limit = get_settings().security.max_conf_bytes
    size = len(json.dumps(conf or {}, default=str).encode("utf-8", "surrogatepass"))
    if size > limit:
        raise ValueError(f"conf is {size} bytes as JSON; at most {limit} are allowed (security.max_conf_bytes)")


def check_variable_size(value: str) -> None:
    limit = get_settings().security.max_variable_bytes
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise ValueError(f"the value is {size} bytes; at most {limit} are allowed (security.max_variable_bytes)")
