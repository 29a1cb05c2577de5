"""``python -m netwire``: the same as the ``netwire`` command."""

from netwire.cli.main import main

raise SystemExit(main())
