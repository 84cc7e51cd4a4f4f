"""``python -m api.service``: check the start-up conditions, then serve with uvicorn.

``careplan serve`` runs this. Every refusal is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from api.service.settings import get_settings
from api.service.startup import StartupError, check_data_dir, check_exposure, lock_data_dir


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``--host --port --insecure-open``, run the checks, serve until interrupted."""
    parser = argparse.ArgumentParser(prog="careplan serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--insecure-open", action="store_true")
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
        warning = check_exposure(args.host, settings, insecure_open=args.insecure_open)
        check_data_dir(settings.data_dir)
        lock_data_dir(settings.data_dir)
    except StartupError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    except ValueError as exc:  # pydantic settings validation
        first = str(exc).splitlines()
        sys.stderr.write(f"careplan: error: invalid CAREPLAN_* setting: {' '.join(first[:3])}\n")
        return 1
    if warning:
        sys.stderr.write(f"{warning}\n")
    import uvicorn

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from api.service.main import app

    uvicorn.run(app, host=args.host, port=args.port, workers=1, log_level="info",
                timeout_graceful_shutdown=10, server_header=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
