"""The ``netwire`` command line."""
