"""The API server: REST API under ``/api/v1``, the web UI, ``/health`` and ``/metrics``.

Invariants: a replica keeps no state of its own (sessions are signed cookies, users and tokens
live in the DB), so any replica answers any request; routes open a session, call one function of
``queries`` or ``orchestration`` and map the result to a schema; every state change goes through
``tandem.orchestration``. Importing this package does not import FastAPI, so the CLI can use
``tandem.api.auth`` cheaply.
"""
