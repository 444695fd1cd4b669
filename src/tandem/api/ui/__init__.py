"""The web UI: server-rendered Jinja2 pages plus one small script and one stylesheet.

Pages read through the same query functions as the REST API; every change the UI makes is a
``fetch`` to the REST API with the session's CSRF token, so there is one implementation of each
action. Jinja autoescaping is on for every template: user text (DAG docs, logs, conf, params)
is never markup. No inline scripts or styles, so the Content-Security-Policy can forbid them.
"""
