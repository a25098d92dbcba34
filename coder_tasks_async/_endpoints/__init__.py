"""The endpoint layer: one short method per Coder Tasks endpoint, on top of the transport."""
