"""Request bodies (``actions``), responses (``responses``) and list filters (``filters``).

Names follow Airflow's stable REST API v1 so existing clients keep working.
"""
