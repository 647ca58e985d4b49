"""One registry for every model: ``register_model`` decorates a factory, ``create_model`` calls it."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from torch import nn

from objectix_edge.errors import ArtifactError, InputError

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
    return sorted(_REGISTRY)


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build model ``name``; the module carries its ModelSpec as ``model.spec``."""
    if name not in _REGISTRY:
        raise InputError(f"unknown model {name!r}; choose one of: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](**kwargs)


def check_model_kwargs(name: str, kwargs: Mapping[str, Any], source: str) -> None:
    """Raise ArtifactError when a spec's ``model_kwargs`` (read from ``source``) has keys model ``name``
    does not take: the model would fail to build with a TypeError deep inside."""
    if name not in _REGISTRY:
        return  # the caller names an unknown model in its own words
    params = inspect.signature(_REGISTRY[name]).parameters
    if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    unknown = sorted(set(kwargs) - set(params) | ({"categories"} & set(kwargs)))
    if unknown:
        raise ArtifactError(
            f"{source}: its model spec is malformed: model_kwargs has {', '.join(map(repr, unknown))}, which {name} does not "
            "take; re-create it with objx-edge train/export"
        )
