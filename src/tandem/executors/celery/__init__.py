"""The Celery executor: tries travel as Celery messages to ``tandem worker`` processes.

``executor`` sends, ``app`` configures Celery, ``tasks`` runs a try on a worker, ``worker``
makes a Celery worker a Tandem node, ``events`` wakes schedulers when a try finished.
Importing this package imports nothing from Celery.
"""
