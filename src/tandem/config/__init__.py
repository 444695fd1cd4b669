"""Configuration: one typed tree read from ``tandem.toml`` and ``TANDEM__SECTION__KEY`` variables.

Every node of a cluster reads the same file; environment variables override it key by key.
Settings are read at call time (``get_settings()``) or passed to constructors, never at import.
"""

from tandem.config.settings import (
    ConfigError,
    Settings,
    get_settings,
    load_settings,
    reset_settings,
    tandem_home,
)

__all__ = ["ConfigError", "Settings", "get_settings", "load_settings", "reset_settings", "tandem_home"]
