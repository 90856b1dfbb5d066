"""The factorisation a Bayesian network encodes, as text and LaTeX.

    p(x1, ..., xn) = prod_i p(xi | parents(xi))

Conditional independence is what makes this worth writing down: the factors
need far fewer parameters than the full joint distribution, and
:class:`Factorization` reports both counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from pgm.graph import _latex_name

__all__ = ["Factorization"]


@dataclass(frozen=True)
class Term:
    """One factor p(node | parents), with the CPD's one-line description."""

    node: str
    parents: tuple[str, ...]
    distribution: str
    distribution_latex: str
    is_discrete: bool

    def __str__(self) -> str:
        given = f" | {', '.join(self.parents)}" if self.parents else ""
        return f"p({self.node}{given})"

    def latex(self) -> str:
        given = f" \\mid {', '.join(map(_latex_name, self.parents))}" if self.parents else ""
        return f"p({_latex_name(self.node)}{given})"


class Factorization:
    """The product of conditional distributions a network defines.

    Attributes
    ----------
    terms : tuple of Term
        One factor per node, in topological order.
    n_parameters : int
        Free parameters of the network's CPDs.
    n_joint_parameters : int
        Free parameters of the unrestricted joint over the same variables: a
        table of all discrete configurations, times a full Gaussian (mean and
        covariance) of the continuous variables per configuration.
    nonlinear : tuple of str
        Continuous nodes whose mean is not linear in their parents: the
        joint is then not Gaussian, and the summary does not compare the
        two counts.

    Examples
    --------
    >>> import pgm
    >>> f = pgm.load("asia").factorization()
    >>> print(f)
    p(asia, tub, smoke, lung, bronc, either, xray, dysp) = p(asia) p(tub | asia) p(smoke) p(lung | smoke) p(bronc | smoke) p(either | lung, tub) p(xray | either) p(dysp | bronc, either)
    >>> f.n_parameters, f.n_joint_parameters
    (18, 255)
    """

    def __init__(self, network):
        self.terms = tuple(
            Term(
                node,
                network[node].parents,
                network[node].describe(),
                network[node].describe_latex(),
                network[node].is_discrete,
            )
            for node in network.topological_order()
        )
        self.n_parameters = network.n_free_parameters
        cpds = [network[n] for n in network.nodes]
        configurations = prod(len(c.domain) for c in cpds if c.is_discrete)
        m = sum(not c.is_discrete for c in cpds)
        self.n_joint_parameters = (configurations - 1) + configurations * (m + m * (m + 1) // 2)
        # A mean that is not linear in its continuous parents (y = a + b x + c x^2) makes the joint
        # non-Gaussian: the count above is then that of a different, Gaussian, model, and is not compared.
        self.nonlinear = tuple(n for n in network.nodes if not network[n].is_discrete
                               and not all(f.is_identity for f in network[n].features))

    @property
    def variables(self) -> tuple[str, ...]:
        """The variables, in topological order."""
        return tuple(t.node for t in self.terms)

    def __str__(self) -> str:
        return f"p({', '.join(self.variables)}) = " + " ".join(map(str, self.terms))

    def __repr__(self) -> str:
        return f"<Factorization {self}>"

    def latex(self) -> str:
        """The factorisation in LaTeX (math mode, without delimiters)."""
        left = ", ".join(_latex_name(v) for v in self.variables)
        return f"p({left}) = " + " \\, ".join(t.latex() for t in self.terms)

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def describe(self) -> str:
        """The factorisation, then one line per factor with its distribution, then the parameter counts
        (a :class:`~pgm.inference.display.Text`: a notebook shows it as text)."""
        width = max(len(str(t)) for t in self.terms) if self.terms else 0
        lines = [str(self), ""]
        lines += [f"  {str(t):<{width}}  {t.distribution}" for t in self.terms]
        lines += ["", self.parameter_summary()]
        from pgm.inference.display import Text

        return Text("\n".join(lines))

    def describe_latex(self) -> str:
        """An ``aligned`` LaTeX block: each factor with its distribution."""
        rows = [f"{t.latex()} &= {t.distribution_latex}" for t in self.terms]
        return "\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}"

    def parameter_summary(self) -> str:
        """One sentence comparing the network's free parameters with the full joint's."""
        from pgm.inference.display import Text

        return Text(self._parameter_sentence())

    def _parameter_sentence(self) -> str:
        joint = self.n_joint_parameters
        joint_text = f"{joint:,}" if joint < 10**15 else f"{float(joint):.3g}"
        if self.nonlinear:
            return (
                f"{len(self.terms)} variables: {self.n_parameters:,} free parameters in the factorisation; "
                f"the joint distribution is not Gaussian ({', '.join(self.nonlinear)}: a mean non-linear in the "
                f"parents), so no unrestricted joint of the same family compares (a joint Gaussian, which "
                f"cannot express it, has {joint_text})"
            )
        return (
            f"{len(self.terms)} variables: {self.n_parameters:,} free parameters in the factorisation, "
            f"{joint_text} in the full joint distribution"
        )
