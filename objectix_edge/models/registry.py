"""One registry for every model: ``register_model`` decorates a factory, ``create_model`` calls it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

from objectix_edge.errors import InputError

ModelFactory = Callable[..., nn.Module]
F = TypeVar("F", bound=ModelFactory)

_REGISTRY: dict[str, ModelFactory] = {}


def register_model(name: str) -> Callable[[F], F]:
    """Register ``factory`` under ``name``; a second registration of the same name raises."""

    def decorate(factory: F) -> F:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is already registered")
        _REGISTRY[name] = factory
        return factory

    return decorate


def list_models() -> list[str]:
    _ensure_builtin_models()
    return sorted(_REGISTRY)


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build model ``name``; the module carries its ModelSpec as ``model.spec``."""
    _ensure_builtin_models()
    if name not in _REGISTRY:
        raise InputError(f"unknown model {name!r}; choose one of: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](**kwargs)


def _ensure_builtin_models() -> None:
    # Importing the modules runs their @register_model decorators.
    from objectix_edge.models import (  # noqa: F401
        mobilelike_det,
        mobilenet_det,
        objectix_resnet50,
        resnet50_cls,
        resnet50_roi,
    )
