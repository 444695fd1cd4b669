"""Read and write functions behind the routes and pages: session first, no commit, no HTTP.

Shared helpers for the CLI live in ``tandem.models.queries``; what only the API needs
(filtered, paginated listings, grid and graph data) lives here.
"""
