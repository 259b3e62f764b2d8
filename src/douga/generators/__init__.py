"""Frame generators: make the in-between drawings (douga) between two keyframes (genga).

Every generator implements :class:`douga.generators.base.Generator`; look one up by
name with :func:`get_generator`.
"""

from douga.generators.base import (
    Generator,
    PairContext,
    available_generators,
    get_generator,
    register_generator,
)

__all__ = [
    "Generator",
    "PairContext",
    "available_generators",
    "get_generator",
    "register_generator",
]
