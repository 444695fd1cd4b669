"""Why a merge stops. Raised before the first write, or inside the transaction (rolled back)."""

from __future__ import annotations


class MergeError(RuntimeError):
    """A merge that cannot go on; nothing has been written (or everything was rolled back)."""


class SecretError(MergeError):
    """A secret of the other instance cannot be read with the key given for it, or not stored here."""
