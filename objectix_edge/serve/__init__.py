"""Serving models on the user's input: one whole run (source → models → sinks), the shadow judge that
re-checks a deployed detector live, and one-image prediction."""
