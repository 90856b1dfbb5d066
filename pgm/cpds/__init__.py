"""Conditional distribution families; every one follows the protocol of :mod:`pgm.cpds.base`."""

from collections.abc import Mapping

from pgm.cpds.base import CPD
from pgm.cpds.categorical import Bernoulli, Categorical
from pgm.cpds.features import Feature, Function, Monomial, RadialBasis, polynomial
from pgm.cpds.gaussian import Gaussian, LinearGaussian
from pgm.cpds.noisy_or import NoisyMax, NoisyOr
from pgm.cpds.softmax import Logistic, Softmax
from pgm.errors import CPDError

__all__ = [
    "CPD", "Categorical", "Bernoulli", "LinearGaussian", "Gaussian",
    "Softmax", "Logistic", "NoisyMax", "NoisyOr",
    "Feature", "Monomial", "Function", "RadialBasis", "polynomial", "cpd_from_dict",
]

FAMILIES = {cls.family: cls for cls in (Categorical, LinearGaussian, Softmax, NoisyMax)}


def cpd_from_dict(data: Mapping) -> CPD:
    """An unbound CPD from the dict that :meth:`CPD.to_dict` produced."""
    family = data.get("type")
    if family not in FAMILIES:
        raise CPDError(f"unknown CPD type {family!r}; known types are {sorted(FAMILIES)}")
    return FAMILIES[family].from_dict(data)
