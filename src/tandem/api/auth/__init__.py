"""Who is asking, and may they: users, roles, passwords, API tokens, session cookies, CSRF.

``passwords``, ``users``, ``tokens`` and ``roles`` are plain functions over the DB (used by the
CLI too); ``session`` and ``identity`` are the HTTP side.
"""
