"""Extra parts of ``netwire demo``: each module defines ``run(out) -> None``, run in name order."""
