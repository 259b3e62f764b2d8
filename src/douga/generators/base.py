"""The one interface every in-betweening generator implements, and a lazy registry.

A generator takes keyframe A and keyframe B (uint8 H×W×3 RGB, the same size), a list
of t in (0, 1) and a :class:`PairContext`, and yields one frame per t, in order.
Heavy generators (learned, text-guided) live in modules that import torch; the
registry imports a generator's module only when that generator is asked for, so
``douga analyze`` or a ``flow`` render never imports torch.
"""

from __future__ import annotations

import importlib
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from douga.errors import InputError

__all__ = [
    "Generator",
    "PairContext",
    "available_generators",
    "check_pair",
    "generator_takes",
    "get_generator",
    "pair_texts",
    "register_generator",
]


@dataclass(frozen=True)
class PairContext:
    """What a generator may know about a keyframe pair besides the two images.

    Attributes
    ----------
    text_a, text_b
        The keyframes' texts from the project file (empty when none).
    style
        The project's global style text (empty when none).
    seed
        Seed for any randomness; the same seed gives the same frames.
    hints
        Motion hints from the plan, by name (for example ``"intensity"`` 0–1 of the
        section, ``"duration"`` of the in-between in seconds). Generators ignore
        hints they do not know.
    """

    text_a: str = ""
    text_b: str = ""
    style: str = ""
    seed: int = 0
    hints: dict[str, float] = field(default_factory=dict)


class Generator(ABC):
    """Makes in-between frames of one keyframe pair.

    Subclasses set :attr:`name` and implement :meth:`inbetween`. A generator object
    may keep a cache of per-pair work (optical flow, encodings); calling
    :meth:`inbetween` again on the same pair with other ``ts`` must give the same
    frame for the same t.
    """

    name: str = ""
    version: str = "1"
    """Bump when the frames a generator makes change; renders cache shots by it."""

    @abstractmethod
    def inbetween(
        self,
        a: np.ndarray,
        b: np.ndarray,
        ts: Sequence[float],
        *,
        context: PairContext | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield one uint8 H×W×3 frame for each t in ``ts`` (0 < t < 1), in order."""


def pair_texts(context: PairContext) -> list[str]:
    """The texts that describe a pair: A's and B's (stripped, no repeats), else the style."""
    parts = [t.strip() for t in (context.text_a, context.text_b) if t.strip()]
    if parts:
        return list(dict.fromkeys(parts))
    return [context.style.strip()] if context.style.strip() else []


def check_pair(a: np.ndarray, b: np.ndarray, ts: Sequence[float]) -> None:
    """Raise InputError unless ``a`` and ``b`` are same-size uint8 RGB and every t is in (0, 1)."""
    for name, img in (("keyframe A", a), ("keyframe B", b)):
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise InputError(
                f"{name}: got an array of dtype {img.dtype} and shape {img.shape}; "
                "expected uint8 H×W×3 RGB"
            )
    if a.shape != b.shape:
        raise InputError(
            f"keyframes A and B differ in size ({a.shape[1]}×{a.shape[0]} vs "
            f"{b.shape[1]}×{b.shape[0]}); expected the same size (fit them first)"
        )
    bad = [t for t in ts if not 0.0 < float(t) < 1.0]
    if bad:
        raise InputError(f"in-between positions {bad[:3]}: expected every t in (0, 1)")


# name -> "module:attribute" of a Generator subclass, imported on first use.
_REGISTRY: dict[str, Callable[[], type[Generator]]] = {}


def register_generator(name: str, module: str, attribute: str) -> None:
    """Register a generator class by name; its module is imported only when first asked for."""

    def load() -> type[Generator]:
        cls = getattr(importlib.import_module(module), attribute)
        if not (isinstance(cls, type) and issubclass(cls, Generator)):
            raise TypeError(f"{module}.{attribute} is not a Generator subclass")
        return cls

    _REGISTRY[name] = load


def available_generators() -> list[str]:
    """Names of the registered generators, sorted."""
    return sorted(_REGISTRY)


def get_generator(name: str, **options: Any) -> Generator:
    """A new generator object by registered name.

    ``options`` go to the generator's constructor (for example ``checkpoint=`` for
    ``learned``); a generator that takes no such option is an InputError.

    Raises
    ------
    InputError
        For an unknown name (the message lists the available generators) or an
        option the generator does not take.
    MissingDependency
        When the generator needs an optional package that is not installed.
    """
    cls = _generator_class(name)
    unknown = [k for k in options if not _takes(cls, k)]
    if unknown:
        takes = list(inspect.signature(cls).parameters)
        raise InputError(
            f"generator {name!r} takes no option {unknown[0]!r}"
            + (f"; it takes: {', '.join(takes)}" if takes else "")
        )
    return cls(**options)


def generator_takes(name: str, option: str) -> bool:
    """Whether a registered generator's constructor takes the keyword ``option``.

    For example ``generator_takes("learned", "checkpoint")``: lets a caller pass an
    option only to the generators that take it. Imports the generator's module.

    Raises
    ------
    InputError
        For an unknown name, as :func:`get_generator`.
    """
    return _takes(_generator_class(name), option)


def options_for(names: Sequence[str], options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per generator name, the entries of ``options`` its constructor takes.

    Options whose value is None are not given. Lets one set of command-line options
    (``--checkpoint``, ``--temperature``...) go to the generators that read them when
    several are scored side by side.

    Raises
    ------
    InputError
        For an unknown name, or an option that none of ``names`` takes (the message
        names the option and the generators).
    """
    given = {k: v for k, v in options.items() if v is not None}
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        cls = _generator_class(name)
        out[name] = {k: v for k, v in given.items() if _takes(cls, k)}
    for key in given:
        if names and not any(key in taken for taken in out.values()):
            raise InputError(f"{key} {given[key]}: none of the generators {', '.join(names)} "
                             f"takes a {key}; expected the learned generator among them")
    return out


def _generator_class(name: str) -> type[Generator]:
    load = _REGISTRY.get(name)
    if load is None:
        raise InputError(
            f"generator {name!r}: unknown; available generators: "
            + ", ".join(available_generators())
        )
    return load()


def _takes(cls: type[Generator], option: str) -> bool:
    """Whether ``cls(option=...)`` is accepted. The class's own call signature is read, so
    a class without ``__init__`` takes nothing (not ``object``'s ``*args, **kwargs``)."""
    params = inspect.signature(cls).parameters
    return option in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    )


register_generator("flow", "douga.generators.flow", "FlowGenerator")
register_generator("crossfade", "douga.generators.simple", "CrossfadeGenerator")
register_generator("hold", "douga.generators.simple", "HoldGenerator")
register_generator("learned", "douga.generators.learned", "LearnedGenerator")
register_generator("clip", "douga.generators.clip", "ClipGenerator")
