"""The fan-out layer: one call over many items with bounded concurrency, and rate pacing."""
