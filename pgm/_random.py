"""One place where a user's ``seed`` becomes a :class:`numpy.random.Generator`."""

from __future__ import annotations

import numbers

import numpy as np

SeedLike = "None | int | numpy.random.Generator | numpy.random.SeedSequence"


def as_generator(seed) -> np.random.Generator:
    """Normalise ``seed`` (None, an int, a SeedSequence or a Generator) to a Generator.

    A Generator is used as is, so a caller can thread one generator through
    several calls; the global NumPy generator is never touched.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(seed, bool):
            raise TypeError("seed must be None, an int or a numpy.random.Generator, not a bool")
        return np.random.default_rng(seed)
    raise TypeError(
        f"seed must be None, an int, a SeedSequence or a numpy.random.Generator, not {type(seed).__name__}"
    )
