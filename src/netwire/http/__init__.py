"""HTTP: the protocol cores (HTTP/1.1 and HTTP/2) and their connections."""
