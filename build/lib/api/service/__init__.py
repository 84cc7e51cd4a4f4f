"""The REST service (OGC API Processes/Features): app, routers, persistence, jobs and settings.

May import ``planner`` and ``maps``, never ``api.cli``.
"""
