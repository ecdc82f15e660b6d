"""Entry point of the host maintenance tool: ``python -m maintenance``."""

from maintenance.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
