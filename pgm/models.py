"""Ready-made structures: networks that are standard models.

Each builder returns an ordinary :class:`~pgm.BayesianNetwork` -- declared
with tables when they are given, unfitted (ready for :meth:`fit`) when not.
"""

from __future__ import annotations

from collections.abc import Sequence

from pgm.cpds import Categorical
from pgm.network import BayesianNetwork

__all__ = ["markov_chain"]


def markov_chain(states: Sequence[str], length: int, *, tied: bool = True, initial=None, transition=None,
                 prefix: str = "x", name: str = "markov_chain") -> BayesianNetwork:
    """The first-order Markov chain ``p(x1) prod_t p(x_t | x_{t-1})`` over ``length`` steps.

    Parameters
    ----------
    states : sequence of str
        The states every ``x_t`` takes.
    length : int
        Number of steps (nodes ``x1 .. x{length}``), at least 1.
    tied : bool, default True
        Whether every step shares one transition table (a homogeneous
        chain): declared once, counted once, fitted from the pooled
        transitions, written once.  With ``tied=False`` each step has its
        own table.
    initial : array-like of shape (k,), optional
        ``p(x1)``.  Without it (and ``transition``) the chain is unfitted.
    transition : array-like of shape (k, k), optional
        ``p(x_t = j | x_{t-1} = i)`` in row ``i``, column ``j``: every step's
        table.  Give both tables or neither.
    prefix : str, default "x"
        Node names are ``f"{prefix}{t}"`` for ``t = 1 .. length``.
    name : str
        The network's name.

    Returns
    -------
    BayesianNetwork

    Examples
    --------
    >>> import pgm
    >>> chain = pgm.markov_chain(["0", "1"], 20)
    >>> chain.n_free_parameters, pgm.markov_chain(["0", "1"], 20, tied=False).n_free_parameters
    (3, 39)
    >>> weather = pgm.markov_chain(["sun", "rain"], 3, initial=[0.8, 0.2], transition=[[0.9, 0.1], [0.5, 0.5]])
    >>> print(weather.factorization())
    p(x1, x2, x3) = p(x1) p(x2 | x1) p(x3 | x2)
    """
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"the chain's length must be a positive integer, got {length!r}")
    if (initial is None) != (transition is None):
        raise ValueError("give both the initial distribution and the transition table, or neither (to fit them)")
    names = [f"{prefix}{t}" for t in range(1, length + 1)]
    cpds = {names[0]: Categorical(states, table=initial)}
    for previous, node in zip(names, names[1:]):
        cpds[node] = Categorical(states, parents=[previous], table=transition)
    groups = [names[1:]] if tied and length > 2 else None
    return BayesianNetwork(cpds, name=name, tied=groups)
