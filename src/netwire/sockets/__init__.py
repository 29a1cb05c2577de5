"""TCP, UDP and raw-socket servers and clients."""
