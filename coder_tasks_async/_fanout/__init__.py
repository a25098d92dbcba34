"""The fan-out layer: one call over many items with bounded concurrency, and rate pacing."""

#: How many calls a fan-out runs at once unless told otherwise.  Here, not in
#: ``bounded``: the client's signatures need it without importing the layer.
DEFAULT_CONCURRENCY = 16
