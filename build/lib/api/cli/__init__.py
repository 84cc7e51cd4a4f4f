"""The ``careplan`` command line, one module per command group (run: demo/analyze/serve; site and
whatif; rules; report). May import ``planner`` and ``maps``, never ``api.service``.
"""

from __future__ import annotations

from api.cli.main import main

__all__ = ["main"]
