"""Model registry and the two model families.

Importing the package registers every built-in network (their modules' ``@register_model`` decorators
run here), so ``create_model`` and ``list_models`` see them whichever module was imported first.
"""

from objectix_edge.models import (  # noqa: F401  (imported to register the built-in networks)
    mobilelike_det,
    mobilenet_det,
    objectix_resnet50,
    resnet50_cls,
    resnet50_roi,
)
from objectix_edge.models.registry import create_model, list_models, register_model

__all__ = ["create_model", "list_models", "register_model"]
