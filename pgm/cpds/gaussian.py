"""Continuous nodes: Gaussian, linear Gaussian and conditional linear Gaussian.

``LinearGaussian`` covers all three:

- no parents: ``x ~ N(b0, sigma^2)`` (see :func:`Gaussian`);
- continuous parents: ``x = b0 + w . phi(parents) + e``, ``e ~ N(0, sigma^2)``,
  where ``phi`` are the node's features (the parents themselves by default);
- discrete parents too (conditional linear Gaussian): one ``(b0, w, sigma^2)``
  per configuration of the discrete parents, arrays of shape
  ``(*discrete_cardinalities,)`` for ``b0`` and ``sigma^2`` and
  ``(*discrete_cardinalities, n_features)`` for ``w``.

Sufficient statistics, per discrete configuration, are the total weight, the
weighted means and the centred co-moments of ``z = [phi(parents), x]``.
Centring eliminates the intercept from the normal equations ``A^T A theta =
A^T y``: the weights solve ``C_ff w = C_fx`` and the intercept is
``mean_x - w . mean_f``, the same least-squares solution theta =
(A^T A)^-1 A^T y, found by a Cholesky factorisation of the column-scaled
centred Gram matrix -- far better conditioned than raw moments when values
sit away from zero.  Statistics of two data sets merge exactly with the
pairwise update of Chan, Golub & LeVeque (1979).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.linalg

from pgm.cpds.base import CPD, configuration_label, discrete_configuration_index
from pgm.cpds.categorical import _as_names
from pgm.cpds.features import Feature, as_feature, bind_features, feature_from_dict
from pgm.errors import CPDError, DataError, SingularDesignError

__all__ = ["LinearGaussian", "Gaussian", "VARIANCE_FLOOR"]

#: Fitted residual variances are raised to at least ``VARIANCE_FLOOR`` times
#: the node's own variance in that configuration: below it the normal
#: equations cannot resolve the residual, and a zero variance would make the
#: density infinite.  A node that is constant in a configuration is an error.
VARIANCE_FLOOR = 1e-12

#: Feature and node values are refused beyond these magnitudes: least squares
#: sums their squares, which must stay inside float64's range (about 1e+-308).
LARGEST_VALUE = 1e150
SMALLEST_VALUE = 1e-150

#: A column whose standard deviation is below ``CONSTANT_TOLERANCE`` times
#: its mean is constant to within floating-point rounding.
CONSTANT_TOLERANCE = 1e-13

#: A design whose column-scaled Gram matrix has a smallest-to-largest
#: eigenvalue ratio below this is treated as rank deficient.
RANK_TOLERANCE = 1e-12

_LOG_2PI = float(np.log(2 * np.pi))


class LinearGaussian(CPD):
    """A continuous node, Gaussian given its parents, with mean linear in its features.

    Parameters
    ----------
    parents : sequence of str, optional
        Parent names, discrete and continuous in any order.
    intercept : float or array-like, default 0
        ``b0``; with discrete parents, shape ``(*discrete_cardinalities,)``.
    weights : array-like or dict, optional
        ``w``: shape ``(n_features,)``, or ``(*discrete_cardinalities, n_features)``
        with discrete parents.  With the default features a dict from parent
        name to coefficient is accepted.  Omitted means zero.
    variance : float or array-like, default 1
        ``sigma^2 > 0``; with discrete parents, shape ``(*discrete_cardinalities,)``.
    features : sequence of Feature or str, optional
        Basis functions of the continuous parents (a str is the parent itself).
        Default: each continuous parent, in the order of ``parents``.
    std : float or array-like, optional
        The standard deviation ``sigma`` instead of ``variance`` (give one
        of the two).

    Scalars broadcast over discrete-parent configurations.

    Examples
    --------
    >>> from pgm import BayesianNetwork, Gaussian, LinearGaussian
    >>> net = BayesianNetwork()
    >>> net.add("x", Gaussian(mean=0.0, variance=1.0))
    >>> net.add("y", LinearGaussian(parents=["x"], intercept=1.0, weights={"x": 2.0}, variance=0.25))
    >>> net["y"].describe()
    'N(1 + 2 x, 0.25)'
    """

    family = "linear_gaussian"
    is_discrete = False

    def __init__(
        self,
        *,
        parents: Sequence[str] = (),
        intercept=0.0,
        weights=None,
        variance=None,
        features: Sequence[Feature | str] | None = None,
        std=None,
    ):
        if std is not None:  # the standard deviation, as Gaussian(std=...) takes it
            if variance is not None:
                raise CPDError("give the variance or std=, not both")
            spread = np.asarray(std, dtype=np.float64)
            if not (np.all(np.isfinite(spread)) and np.all(spread > 0)):
                raise CPDError(f"the standard deviation must be positive and finite, got {std!r}")
            variance = float(spread) ** 2 if spread.ndim == 0 else spread**2
        elif variance is None:
            variance = 1.0
        self.parents = _as_names(parents, "parents")
        self.variable = None
        self.latent = False
        self._given_features = None if features is None else tuple(as_feature(f) for f in features)
        self._spec = (intercept, weights, variance)
        self.features = self._given_features
        self.discrete_parents = self.continuous_parents = None
        self.intercept = self.weights = self.variance = None

    @classmethod
    def unfitted(cls, *, parents: Sequence[str] = (), features: Sequence[Feature | str] | None = None) -> "LinearGaussian":
        """An observed continuous node with its parents and features but no parameters yet (fit it to data).

        Examples
        --------
        >>> import pgm
        >>> pgm.LinearGaussian.unfitted(parents=["x"]).is_fitted
        False
        """
        cpd = cls(parents=parents, features=features)
        cpd._spec = None
        return cpd

    @classmethod
    def latent(cls, *, parents: Sequence[str] = (), features: Sequence[Feature | str] | None = None) -> "LinearGaussian":
        """A latent (never observed) continuous node with no parameters yet; EM estimates them.

        A latent root is the factor of factor analysis; its scale is not
        identified by data, so EM fixes nothing and a fitted latent root may
        have any mean and variance.

        Examples
        --------
        >>> import pgm
        >>> factor = pgm.LinearGaussian.latent()
        >>> factor.latent, factor.is_fitted
        (True, False)
        """
        cpd = cls.unfitted(parents=parents, features=features)
        cpd.latent = True
        return cpd

    @property
    def is_fitted(self) -> bool:
        return self._spec is not None if self.variable is None else self.intercept is not None

    # ------------------------------------------------------------------ binding
    def bind(self, variable: str, parent_domains: Mapping[str, tuple | None]) -> "LinearGaussian":
        discrete, continuous, domains, features = bind_features(
            variable, self.parents, self._given_features, parent_domains, "discrete parents select the coefficients")
        if self._spec is None:  # declared without parameters: structure only, until fitted
            return self._bound_copy(variable, discrete, continuous, domains, features, None, None, None)
        intercept, weights, variance = self._spec
        cards = tuple(len(dm) for dm in domains)
        d = len(features)
        if isinstance(weights, Mapping):
            weights = self._weights_from_mapping(variable, weights, features, cards)
        b0 = self._shaped(variable, "intercept", intercept, cards)
        w = self._shaped(variable, "weights", np.zeros(cards + (d,)) if weights is None else weights, cards + (d,), rows=d)
        var = self._shaped(variable, "variance", variance, cards)
        bad = ~(var > 0)
        if bad.any():
            config = int(np.argmax(bad.ravel()))
            raise CPDError(
                f"variance of {variable!r} is {float(var.ravel()[config])!r} at "
                f"{configuration_label(discrete, domains, config)}; it must be positive"
            )
        return self._bound_copy(variable, discrete, continuous, domains, features, b0, w, var)

    @classmethod
    def _weights_from_mapping(cls, variable, weights, features, cards):
        names = [str(f) for f in features]
        if not all(f.is_identity for f in features):
            raise CPDError(f"weights of {variable!r} can be a dict only with the default (identity) features")
        for key in weights:
            if key not in names:
                raise CPDError(f"weights of {variable!r} name {key!r}, which is not one of its continuous parents {names}")
        missing = [n for n in names if n not in weights]
        if missing:
            raise CPDError(f"weights of {variable!r} give no coefficient for parent {missing[0]!r}")
        # each coefficient is a scalar or one value per discrete configuration
        columns = [cls._shaped(variable, f"the weight of {n!r}", weights[n], cards) for n in names]
        return np.stack(columns, axis=-1) if columns else np.zeros(cards + (0,))

    @staticmethod
    def _shaped(variable, what, value, shape, rows: int | None = None) -> np.ndarray:
        """``value`` as an array of ``shape``: scalars broadcast, and configurations may come flattened."""
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise CPDError(f"{what} of {variable!r} is not numeric: {exc}") from None
        if array.ndim == 0:
            array = np.broadcast_to(array, shape)
        configuration_axes = shape if rows is None else shape[:-1]
        flat = (int(np.prod(configuration_axes, dtype=np.int64)),) + (() if rows is None else (rows,))
        if array.shape != shape and len(configuration_axes) > 1 and array.shape == flat:
            array = array.reshape(shape)  # one entry per configuration, in row-major order
        if array.shape != shape:
            raise CPDError(f"{what} of {variable!r} has shape {array.shape}, expected {shape}")
        if not np.isfinite(array).all():
            raise CPDError(f"{what} of {variable!r} has a value that is not finite")
        return np.array(array)

    def _bound_copy(self, variable, discrete, continuous, domains, features, b0, w, var) -> "LinearGaussian":
        bound = object.__new__(type(self))
        bound.parents, bound.variable = self.parents, variable
        bound._given_features = tuple(features)
        bound.features = tuple(features)
        bound.discrete_parents, bound.continuous_parents = discrete, continuous
        bound.parent_states = domains
        bound.latent = self.latent
        if b0 is None:
            bound.intercept = bound.weights = bound.variance = None
            bound._spec = None
            bound._b0 = bound._w = bound._var = bound._log_norm = None
            return bound
        for name, array in (("intercept", b0), ("weights", w), ("variance", var)):
            array = np.array(array, dtype=np.float64)
            array.setflags(write=False)
            setattr(bound, name, array)
        bound._spec = (bound.intercept, bound.weights, bound.variance)  # a bound CPD can be bound again
        k = int(np.prod([len(dm) for dm in domains])) if domains else 1
        bound._b0 = bound.intercept.reshape(k)
        bound._w = bound.weights.reshape(k, len(features))
        bound._var = bound.variance.reshape(k)
        bound._log_norm = np.log(bound._var) + _LOG_2PI
        return bound

    # ------------------------------------------------------------------ the protocol
    @property
    def n_features(self) -> int:
        """Number of features (columns of the design besides the intercept)."""
        self._require_bound("n_features")
        return len(self.features)

    @property
    def n_configurations(self) -> int:
        """Number of configurations of the discrete parents (1 without any)."""
        self._require_bound("n_configurations")
        return int(np.prod([len(d) for d in self.parent_states], dtype=np.int64))

    @property
    def is_linear(self) -> bool:
        """Whether the mean is linear in the parents, with no discrete parents (joint Gaussian)."""
        self._require_bound("is_linear")
        return not self.discrete_parents and all(f.is_identity for f in self.features)

    def _configurations(self, parents):
        return discrete_configuration_index(parents, self.discrete_parents, [len(d) for d in self.parent_states])

    def _add_mean(self, parents, configs, out: np.ndarray) -> np.ndarray:
        """``out += b0 + w . phi(parents)`` in place (avoiding row-sized temporaries), and return ``out``."""
        if configs is None:
            out += self._b0[0]
            scratch = np.empty(len(out)) if self.features else None
            for j, feature in enumerate(self.features):
                np.multiply(feature.evaluate(parents), self._w[0, j], out=scratch)
                out += scratch
            return out
        out += self._b0.take(configs)
        for j, feature in enumerate(self.features):
            out += self._w[:, j].take(configs) * feature.evaluate(parents)
        return out

    def conditional_mean(self, parents: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """``b0 + w . phi(parents)`` for each of ``n`` rows: the node's expected value given its parents.

        Examples
        --------
        >>> import numpy as np, pgm
        >>> net = pgm.BayesianNetwork({"x": pgm.Gaussian(), "y": pgm.LinearGaussian(
        ...     parents=["x"], intercept=1.0, weights={"x": 2.0})})
        >>> net["y"].conditional_mean({"x": np.array([0.0, 1.5])}, 2)
        array([1., 4.])
        """
        self._require_bound("conditional_mean")
        self._require_fitted("computing its mean")
        return self._add_mean(parents, self._configurations(parents), np.zeros(n))

    def _variance_rows(self, configs):
        if configs is None:
            return self._var[0], self._log_norm[0]
        return self._var.take(configs), self._log_norm.take(configs)

    def log_prob(self, values, parents):
        self._require_bound("log_prob")
        self._require_fitted("scoring")
        configs = self._configurations(parents)
        residual = np.negative(values)
        self._add_mean(parents, configs, residual)  # mean - value; squared below, so the sign does not matter
        variance, log_norm = self._variance_rows(configs)
        residual *= residual
        residual /= variance
        residual += log_norm
        residual *= -0.5
        return residual

    def sample(self, parents, n, rng, *, out=None):
        self._require_bound("sample")
        self._require_fitted("sampling")
        noise = rng.standard_normal(n) if out is None else rng.standard_normal(out=out)
        return self.sample_with_noise(parents, noise)

    def sample_with_noise(self, parents, noise: np.ndarray) -> np.ndarray:
        """Draws ``mean + sigma * noise`` given standard normal ``noise``, computed in place in ``noise``."""
        self._require_bound("sample_with_noise")
        configs = self._configurations(parents)
        variance, _ = self._variance_rows(configs)
        noise *= np.sqrt(variance)
        return self._add_mean(parents, configs, noise)

    def statistics(self, values, parents, weights=None):
        """Weight, means and centred co-moments of ``z = [features, x]`` per discrete configuration.

        Returns an array of shape ``(*discrete_cardinalities, d + 2, d + 2)``;
        for each configuration, ``[0, 0]`` is the total weight ``W``, ``[0, 1:]``
        (and ``[1:, 0]``) the weighted mean of ``z``, and ``[1:, 1:]`` the centred
        co-moments ``sum_i w_i (z_i - mean)(z_i - mean)^T``.  Centring keeps the
        precision of variables far from zero; :meth:`merge_statistics` combines
        two such arrays exactly (Chan, Golub & LeVeque's pairwise update).
        """
        self._require_bound("statistics")
        n = len(values)
        d = len(self.features)
        z = np.empty((n, d + 1), order="F")  # column-major: each column is written and read contiguously
        for j, feature in enumerate(self.features):
            z[:, j] = feature.evaluate(parents)
        z[:, d] = values
        self._check_magnitudes(z)
        configs = self._configurations(parents)
        k = self.n_configurations
        out = np.zeros((k, d + 2, d + 2))
        if configs is None:
            w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
            total = float(w.sum())
            if total > 0:
                mean = (w @ z) / total
                z -= mean
                out[0, 0, 0] = total
                out[0, 0, 1:] = out[0, 1:, 0] = mean
                out[0, 1:, 1:] = _weighted_gram(z, None if weights is None else w)
        else:
            w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
            totals = np.bincount(configs, weights=w, minlength=k)
            seen = totals > 0
            means = np.zeros((k, d + 1))
            for j in range(d + 1):
                means[seen, j] = np.bincount(configs, weights=w * z[:, j], minlength=k)[seen] / totals[seen]
            centred = z - means[configs]
            out[:, 0, 0] = totals
            out[:, 0, 1:] = out[:, 1:, 0] = means
            for a in range(d + 1):
                weighted = centred[:, a] * w
                for b in range(a, d + 1):
                    out[:, a + 1, b + 1] = out[:, b + 1, a + 1] = np.bincount(
                        configs, weights=weighted * centred[:, b], minlength=k
                    )
        return out.reshape(tuple(len(dm) for dm in self.parent_states) + (d + 2, d + 2))

    def _check_magnitudes(self, z: np.ndarray) -> None:
        """Refuse values whose squares leave float64's range: sums of squares would overflow or vanish."""
        if not z.size:
            return
        largest = np.maximum(np.abs(z.max(axis=0)), np.abs(z.min(axis=0)))  # no row-sized temporary
        names = [str(f) for f in self.features] + [self.variable]

        def what(j: int) -> str:
            return "its values" if j == len(names) - 1 else f"its feature {names[j]}"

        bad = ~(largest <= LARGEST_VALUE)
        if bad.any():
            j = int(np.argmax(bad))
            raise DataError(
                f"node {self.variable!r}: {what(j)} reach {float(largest[j]):.3g}, beyond {LARGEST_VALUE:.0e}, so "
                "the sums of squares of least squares overflow float64; rescale the column (e.g. change its "
                "units) before fitting"
            )
        tiny = (largest > 0) & (largest < SMALLEST_VALUE)
        if tiny.any():
            j = int(np.argmax(tiny))
            raise DataError(
                f"node {self.variable!r}: {what(j)} are all below {SMALLEST_VALUE:.0e} in magnitude (largest "
                f"{float(largest[j]):.3g}), so their squares underflow float64; rescale the column before fitting"
            )

    def merge_statistics(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """The statistics of the union of two data sets (see :meth:`statistics`)."""
        a, b = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
        if a.shape != b.shape:
            raise CPDError(f"statistics of {self.variable!r} have shapes {a.shape} and {b.shape}; they cannot be merged")
        wa, wb = a[..., 0, 0], b[..., 0, 0]
        total = wa + wb
        out = a + b  # weights and co-moments add; means and the cross term are fixed below
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, wb / total, 0.0)
        delta = b[..., 0, 1:] - a[..., 0, 1:]
        mean = a[..., 0, 1:] + share[..., None] * delta
        # A side with no weight (e.g. a prior's pseudo-statistics) has no mean to move.
        mean = np.where((wa > 0)[..., None], mean, b[..., 0, 1:])
        mean = np.where((wb > 0)[..., None], mean, a[..., 0, 1:])
        out[..., 0, 1:] = mean
        out[..., 1:, 0] = mean
        out[..., 1:, 1:] += (wa * share)[..., None, None] * delta[..., :, None] * delta[..., None, :]
        return out

    def from_statistics(self, statistics, *, variance_prior=None, variance_floor=None):
        """Least-squares parameters; ``variance_prior=(a, b)`` takes the inverse-gamma posterior mode of the variance.

        ``variance_floor`` (a positive number) constrains every residual
        variance to at least that value: the maximiser under the constraint
        is ``max(estimate, floor)``, because the weighted least-squares
        coefficients do not depend on the variance and the likelihood is
        unimodal in it.  A configuration whose values are all equal then gets
        the floor instead of an error.
        """
        self._require_bound("from_statistics")
        d = len(self.features)
        moments = np.asarray(statistics, dtype=np.float64).reshape(-1, d + 2, d + 2)
        if moments.shape[0] != self.n_configurations:
            raise CPDError(
                f"statistics of {self.variable!r} have {moments.shape[0]} configurations, expected {self.n_configurations}"
            )
        b0 = np.empty(moments.shape[0])
        w = np.empty((moments.shape[0], d))
        var = np.empty(moments.shape[0])
        for config, m in enumerate(moments):
            b0[config], w[config], var[config] = self._solve(m, config, variance_prior, variance_floor)
            if not (np.isfinite(b0[config]) and np.isfinite(w[config]).all() and np.isfinite(var[config]) and var[config] > 0):
                where = "" if not self.discrete_parents else (
                    f" at {configuration_label(self.discrete_parents, self.parent_states, config)}")
                raise SingularDesignError(
                    f"least squares for node {self.variable!r}{where} gave a non-finite or zero result "
                    "(values too large, too small or too close together for float64); rescale the data"
                )
        cards = tuple(len(dm) for dm in self.parent_states)
        return self._bound_copy(
            self.variable, self.discrete_parents, self.continuous_parents, self.parent_states, self.features,
            b0.reshape(cards), w.reshape(cards + (d,)), var.reshape(cards),
        )

    def _solve(self, m: np.ndarray, config: int, variance_prior=None, variance_floor=None):
        """Least squares from one configuration's statistics: (intercept, weights, variance)."""
        d = m.shape[0] - 2
        weight, mean = m[0, 0], m[0, 1:]
        covariance = m[1:, 1:]  # centred co-moments of [features, x]
        where = "" if not self.discrete_parents else (
            f" at {configuration_label(self.discrete_parents, self.parent_states, config)}"
        )
        if not weight > 0:
            raise SingularDesignError(
                f"node {self.variable!r} has no data{where}; its coefficients cannot be estimated "
                "(merge or drop that configuration, or fit with more data)"
            )
        spread = np.diag(covariance)
        # A column whose spread is within rounding of its mean is constant: centring a
        # constant leaves noise of order (eps * mean)^2 per row, never exactly zero.
        constant = spread <= weight * (CONSTANT_TOLERANCE * mean) ** 2
        if constant[d] and variance_prior is None and not variance_floor:
            raise SingularDesignError(
                f"node {self.variable!r} takes a single value{where} (total weight {weight:g}), so its "
                "variance is zero and it has no density; is it really continuous, and is there enough data?"
            )
        weights = np.zeros(d)
        if d:
            if constant[:d].any():
                feature = self.features[int(np.flatnonzero(constant[:d])[0])]
                raise SingularDesignError(
                    f"feature {feature} of node {self.variable!r} is constant{where} (total weight "
                    f"{weight:g}), so it cannot be told apart from the intercept"
                )
            gram, cross = covariance[:d, :d], covariance[:d, d]
            scale = np.sqrt(spread[:d])
            scaled = gram / np.outer(scale, scale)
            eigenvalues = np.linalg.eigvalsh(scaled)
            if eigenvalues[0] <= RANK_TOLERANCE * eigenvalues[-1]:
                names = ["intercept"] + [str(f) for f in self.features]
                raise SingularDesignError(
                    f"the design of node {self.variable!r}{where} is rank deficient (columns {names} are "
                    f"collinear, or there are fewer than {d + 1} rows; total weight {weight:g}); drop a "
                    "parent or feature, add data, or fit with a Ridge prior"
                )
            factor = scipy.linalg.cho_factor(scaled, lower=True, check_finite=False)
            weights = scipy.linalg.cho_solve(factor, cross / scale, check_finite=False) / scale
        intercept = mean[d] - weights @ mean[:d]
        residual = spread[d] - (weights @ covariance[:d, d] if d else 0.0)
        if variance_prior is not None:
            shape, scale = variance_prior
            variance = (max(residual, 0.0) + 2 * scale) / (weight + 2 * shape + 2)
        else:
            variance = max(residual / weight, VARIANCE_FLOOR * spread[d] / weight)
        if variance_floor:
            variance = max(variance, variance_floor)
        return intercept, weights, variance

    def empty_configurations(self, statistics):
        d = len(self.features)
        weights = np.asarray(statistics).reshape(-1, d + 2, d + 2)[:, 0, 0]
        return [
            configuration_label(self.discrete_parents, self.parent_states, int(c)) for c in np.flatnonzero(weights <= 0)
        ]

    @property
    def n_free_parameters(self) -> int:
        self._require_bound("n_free_parameters")
        return self.n_configurations * (len(self.features) + 2)

    # ------------------------------------------------------------------ presentation
    def to_dict(self) -> dict:
        self._require_bound("to_dict")
        fitted = self.is_fitted
        out = {
            "type": self.family,
            "parents": list(self.parents),
            "features": [f.to_dict() for f in self.features],
            "intercept": self.intercept.tolist() if fitted else None,
            "weights": self.weights.tolist() if fitted else None,
            "variance": self.variance.tolist() if fitted else None,
        }
        if self.latent:
            out["latent"] = True
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> "LinearGaussian":
        """Inverse of :meth:`to_dict` (unbound; bind by adding to a network)."""
        features = [feature_from_dict(f) for f in data.get("features", ())]
        if data.get("intercept") is None and data.get("variance") is None:
            cpd = cls.unfitted(parents=data.get("parents", ()), features=features)
        else:
            cpd = cls(
                parents=data.get("parents", ()),
                intercept=data["intercept"],
                weights=data.get("weights"),
                variance=data["variance"],
                features=features,
            )
        cpd.latent = bool(data.get("latent", False))
        return cpd

    def _mean_text(self, config: int, latex: bool) -> str:
        terms = [f"{self._b0[config]:.4g}"]
        for coefficient, feature in zip(self._w[config], self.features):
            name = feature.latex() if latex else str(feature)
            sign = "-" if coefficient < 0 else "+"
            terms.append(f"{sign} {abs(coefficient):.4g} {name}")
        return " ".join(terms)

    def to_frame(self):
        """The parameters as a DataFrame: one row per configuration of the discrete parents.

        Columns are ``intercept``, one weight per feature (named by the
        feature) and ``variance``.

        Examples
        --------
        >>> import pgm
        >>> net = pgm.BayesianNetwork({"x": pgm.Gaussian(0, 1),
        ...                            "y": pgm.LinearGaussian(parents=["x"], intercept=1, weights=[2], variance=0.5)})
        >>> print(net["y"].to_frame())
        y             intercept    x  variance
        (no parents)        1.0  2.0       0.5
        """
        import pandas as pd

        self._require_bound("to_frame")
        self._require_fitted("reading its parameters")
        if len(self.discrete_parents) > 1:
            index = pd.MultiIndex.from_product(self.parent_states, names=list(self.discrete_parents))
        elif self.discrete_parents:
            index = pd.Index(self.parent_states[0], name=self.discrete_parents[0])
        else:
            index = pd.Index(["(no parents)"])
        columns = ["intercept", *map(str, self.features), "variance"]
        values = np.column_stack([self._b0, self._w, self._var])
        return pd.DataFrame(values, index=index, columns=pd.Index(columns, name=self.variable))

    def __str__(self) -> str:
        if not self.is_bound:
            return repr(self)
        if not self.is_fitted:
            return f"{self.variable} ~ linear Gaussian in {list(self.parents) or 'no parents'}, not fitted yet"
        lines = []
        for config in range(self._b0.size):
            given = ("" if not self.discrete_parents
                     else f" | {configuration_label(self.discrete_parents, self.parent_states, config)}")
            lines.append(f"{self.variable}{given} ~ N({self._mean_text(config, False)}, {self._var[config]:.4g})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.to_frame().to_html() if self.is_bound and self.is_fitted else f"<pre>{self}</pre>"

    def describe(self) -> str:
        self._require_bound("describe")
        if not self.is_fitted:
            return f"linear Gaussian, {'latent, ' if self.latent else ''}not fitted yet"
        if self._b0.size == 1:
            return f"N({self._mean_text(0, False)}, {self._var[0]:.4g})"
        return (
            f"conditional linear Gaussian, one N(mean, variance) for each of the {self._b0.size} "
            f"configurations of {', '.join(self.discrete_parents)}"
        )

    def describe_latex(self) -> str:
        self._require_bound("describe_latex")
        if not self.is_fitted:
            return "\\text{not fitted}"
        if self._b0.size == 1:
            return f"\\mathcal{{N}}({self._mean_text(0, True)},\\ {self._var[0]:.4g})"
        return f"\\mathcal{{N}}\\text{{ for each of {self._b0.size} configurations}}"

    def __eq__(self, other) -> bool:
        if not isinstance(other, LinearGaussian):
            return NotImplemented
        if (self.parents, self.variable, self.latent) != (other.parents, other.variable, other.latent):
            return False
        if not self.is_bound or not other.is_bound:
            return self is other
        if not (self.is_fitted and other.is_fitted):
            return self.is_fitted == other.is_fitted and self.features == other.features
        return (
            self.features == other.features
            and np.array_equal(self.intercept, other.intercept)
            and np.array_equal(self.weights, other.weights)
            and np.array_equal(self.variance, other.variance)
        )

    __hash__ = None

    def __repr__(self) -> str:
        head = f"{self.variable!r}, " if self.variable else ""
        parents = f"parents={list(self.parents)}" if self.parents else "no parents"
        status = ", latent" if self.latent else ""
        status += "" if self.is_fitted else ", not fitted"
        return f"LinearGaussian({head}{parents}{status})"


def _weighted_gram(z: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """``z^T diag(weights) z`` for a tall, column-major ``z``."""
    k = z.shape[1]
    if k > 8:
        return z.T @ (z if weights is None else z * weights[:, None])
    # For a handful of columns, BLAS's matrix product of a tall, thin matrix is
    # several times slower than the k(k+1)/2 dot products of its columns.
    out = np.empty((k, k))
    for a in range(k):
        left = z[:, a] if weights is None else z[:, a] * weights
        for b in range(a, k):
            out[a, b] = out[b, a] = left @ z[:, b]
    return out


def Gaussian(mean: float = 0.0, variance: float | None = None, *, std: float | None = None) -> LinearGaussian:
    """A continuous root node ``N(mean, variance)``: the second argument is the VARIANCE (or give ``std=``).

    NumPy's and SciPy's normal distributions take the standard deviation
    (``scale``); pgm follows the statistics notation ``N(mean, variance)``.
    Give ``std=`` instead to state the standard deviation; giving both is an
    error.  The default is ``N(0, 1)``.

    Parameters
    ----------
    mean : float, default 0
        The mean.
    variance : float, optional
        The variance sigma^2 (default 1 unless ``std`` is given).
    std : float, optional
        The standard deviation sigma instead of the variance.

    Examples
    --------
    >>> from pgm import BayesianNetwork, Gaussian
    >>> net = BayesianNetwork({"height": Gaussian(mean=170.0, variance=49.0)})
    >>> net["height"].describe()
    'N(170, 49)'
    >>> BayesianNetwork({"height": Gaussian(170.0, std=7.0)})["height"].describe()
    'N(170, 49)'
    """
    if std is not None:
        if variance is not None:
            raise CPDError("give the variance or std=, not both")
        std = float(std)
        if not (np.isfinite(std) and std > 0):
            raise CPDError(f"the standard deviation must be positive and finite, got {std!r}")
        variance = std * std
    return LinearGaussian(intercept=mean, variance=1.0 if variance is None else variance)
