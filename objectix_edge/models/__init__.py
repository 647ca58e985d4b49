"""Model registry and the two model families."""

from objectix_edge.models.registry import create_model, list_models, register_model

__all__ = ["create_model", "list_models", "register_model"]
