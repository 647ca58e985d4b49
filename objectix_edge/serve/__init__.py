"""Serving models on the user's input: one whole run (source → models → sinks), the shadow judge that
re-checks a deployed detector live, the source factory, and one-image prediction."""
