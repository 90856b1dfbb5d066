"""Fitting dynamic networks through the statistics seam: counts when complete, Baum-Welch when not.

Every distinct CPD of the network (the transition's, keyed ``"x[t]"``, and
each initial slice's override, ``"x[k]"``) gets the sufficient statistics
of all the steps it serves, merged with the CPD's own ``merge_statistics``;
the M-step is the CPD's ``from_statistics`` with the prior's
pseudo-statistics added -- exactly the static :mod:`pgm.learning.mle` path.

With hidden nodes, the E-step is forward-backward
(:mod:`pgm.dynamic.forward_backward`): a factor over the current hidden
state is weighted by the smoothed posterior of each step; one over the
previous and current states by the pairwise posterior, summed over steps
when it does not involve data.  Each weighted row goes to the CPD's
``statistics`` as it is, so any CPD family (tables, linear Gaussian,
conditional linear Gaussian) gets its expected statistics without new code.
Statistics of disjoint sets of sequences add (:class:`~pgm.learning.mle.Statistics`),
so chunks and partitions split by whole sequences merge exactly.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from pgm._random import as_generator
from pgm.dynamic.centring import centred, shift_data, shift_network
from pgm.dynamic.forward_backward import forward_backward
from pgm.dynamic.gaussian_blocks import block_statistics, gaussian_blocks
from pgm.dynamic.gaussian_runs import gaussian_runs, reach_groups, run_statistics
from pgm.dynamic.inference import pack_observed, prepare
from pgm.dynamic.kalman_em import is_linear_dynamical, kalman_expected_statistics, random_start_statistics
from pgm.dynamic.potentials import evidence_terms, factor_rows, grid_columns, hidden_space, potentials
from pgm.errors import DataError, UnseenConfigurationWarning, caller_stacklevel
from pgm.learning.em import ConvergenceWarning, FitReport, _progress
from pgm.learning.mle import Statistics
from pgm.learning.priors import pseudo_statistics, variance_prior

__all__ = ["expected_statistics", "from_statistics", "fit", "fit_pieces"]


def _posterior_weights(factor, space, fb, rows, cols) -> np.ndarray:
    """Each position's posterior over the factor's grid of hidden nodes: shape (positions, G)."""
    G = len(factor.grid)
    if factor.pairwise:
        steps = fb.pair_steps
        index = factor.index.reshape(-1)
    else:
        steps = fb.smoothed
        index = factor.index
    flat = rows * steps.shape[1] + cols  # one gather from the flattened (sequence, step) axis
    joint = steps.reshape(steps.shape[0] * steps.shape[1], -1).take(flat, axis=0)
    if G == len(index) and np.array_equal(index, np.arange(G)):
        return joint  # the factor involves every hidden node in joint-state order
    projection = np.zeros((len(index), G))
    projection[np.arange(len(index)), index] = 1.0
    return joint @ projection


def _constant_weights(factor, space, fb, packed) -> np.ndarray:
    """Posterior mass on a data-free factor's grid, summed over its steps: shape (G,)."""
    G = len(factor.grid)
    if factor.pairwise:
        key = -1 if factor.start >= fb._n_initial else factor.start
        mass = fb.pair_sums[key].reshape(-1)
        index = factor.index.reshape(-1)
    else:
        valid = np.arange(factor.start, factor.stop)[None, :] < packed.lengths[:, None]
        mass = (fb.smoothed[:, factor.start:factor.stop] * valid[..., None]).sum(axis=(0, 1))
        index = factor.index
    return np.bincount(index, weights=mass, minlength=G)


def _n_initial(fb) -> int:
    return fb._n_initial


def expected_statistics(network, data, *, sequence=None, time=None, lengths=None, soft=None, _prepared=None):
    """Expected sufficient statistics of every distinct CPD, and the total log-likelihood.

    Returns ``(Statistics, log_likelihood)``; statistics are keyed as
    :meth:`DynamicBayesianNetwork.cpd_key`.  With no hidden nodes they are the
    plain complete-data statistics.
    """
    packed, space, pot = _prepared or prepare(network, data, sequence=sequence, time=time, lengths=lengths, soft=soft)
    fb = forward_backward(pot, packed, per_step_pairs=any(f.uses_data and f.pairwise for f in pot.factors))
    fb._n_initial = network.n_initial
    return _statistics(network, packed, space, pot.factors, fb), float(fb.log_likelihood.sum())


def _from_step(selection, first_step: int):
    """``(rows, cols, columns)`` without the positions before ``first_step`` (a window's context steps)."""
    rows, cols, columns = selection
    if not first_step:
        return selection
    keep = cols >= first_step
    return rows[keep], cols[keep], {name: values[keep] for name, values in columns.items()}


def _statistics(network, packed, space, factors, fb, first_step: int = 0) -> Statistics:
    # Blocks of missing continuous values are imputed from the current parameters: an unfitted network (EM's
    # random start) has none, so its statistics come from the steps outside the blocks only.
    blocks_too = network.is_fitted
    blocks = gaussian_blocks(network, packed, space)  # found first: the factors leave their steps out
    arrays, mergers = {}, {}
    for factor in factors:
        cpd = factor.cpd
        G = len(factor.grid)
        if factor.uses_data:
            rows, cols, columns = _from_step(factor_rows(factor, packed, network), first_step)
            if factor.involved:
                weights = _posterior_weights(factor, space, fb, rows, cols).reshape(-1)
                repeated = {name: np.repeat(values, G) for name, values in columns.items()}
                repeated.update(grid_columns(factor, len(rows)))
            else:
                weights, repeated = None, columns
        else:
            weights = _constant_weights(factor, space, fb, packed)
            repeated = grid_columns(factor, 1)
        values = repeated[factor.node]
        parents = {p: repeated[p] for p in cpd.parents}
        stats = cpd.statistics(values, parents, weights)
        if factor.uses_data and factor.node not in factor.hidden and blocks_too:
            missing = _missing_value_statistics(factor, network, packed, space, fb, first_step)
            if missing is not None:
                stats = cpd.merge_statistics(stats, missing)
        key = factor.key
        arrays[key] = stats if key not in arrays else cpd.merge_statistics(arrays[key], stats)
        mergers[key] = cpd.merge_statistics
    for run in gaussian_runs(network, packed) if blocks_too else ():
        posterior = (fb.smoothed[run.rows, run.last] if fb is not None
                     else np.ones((len(run.rows), space.size)))
        if first_step:
            raise DataError("checkpointed windows cannot hold missing continuous values carried across slices")
        for key, stats in run_statistics(network, run, packed, space, posterior).items():
            arrays[key] = mergers[key](arrays[key], stats)
    for block in blocks if blocks_too else ():
        posterior = (fb.smoothed[block.rows, block.cols] if fb is not None
                     else np.ones((len(block.rows), space.size)))
        for key, stats in block_statistics(network, block, packed, space, posterior).items():
            arrays[key] = mergers[key](arrays[key], stats)
    return Statistics(arrays, float(packed.lengths.sum()), mergers)


def _missing_value_statistics(factor, network, packed, space, fb, first_step=0):
    """Expected statistics of an observed node where its value is missing (it has no observed children, so its
    posterior is its CPD given the parents): every state weighted by ``p(state | parents)`` for a discrete
    node; for a Gaussian one, two points ``mean +- sd`` of half weight, which carry its exact first and
    second moments into the moment statistics."""
    rows, cols, columns = _from_step(factor_rows(factor, packed, network, missing_child=True), first_step)
    if not len(rows):
        return None
    cpd, G = factor.cpd, len(factor.grid)
    if factor.involved:
        weights = _posterior_weights(factor, space, fb, rows, cols).reshape(-1)
        repeated = {name: np.repeat(values, G) for name, values in columns.items()}
        repeated.update(grid_columns(factor, len(rows)))
    else:
        weights, repeated = np.ones(len(rows)), dict(columns)
    parents = {p: repeated[p] for p in cpd.parents}
    n = len(weights)
    if cpd.is_discrete:
        k = len(cpd.domain)
        codes = np.repeat(np.arange(k), n)
        tiled = {p: np.tile(v, k) for p, v in parents.items()}
        probability = np.exp(cpd.log_prob(codes, tiled))
        return cpd.statistics(codes, tiled, np.tile(weights, k) * probability)
    mean = cpd.conditional_mean(parents, n)
    configs = cpd._configurations(parents)
    sd = np.sqrt(cpd._variance_rows(configs)[0]) * np.ones(n)
    tiled = {p: np.tile(v, 2) for p, v in parents.items()}
    return cpd.statistics(np.r_[mean - sd, mean + sd], tiled, np.tile(weights, 2) / 2)


def from_statistics(network, stats, *, prior=None, quiet: bool = True):
    """The network with every distinct CPD refitted from ``stats`` (plus the prior's pseudo-statistics).

    Table rows whose parent configuration has no weight are set uniform
    (with a warning unless ``quiet``)."""
    fitted, unseen = {}, []
    for key, cpd in network._distinct_cpds().items():
        if key not in stats:
            raise DataError(f"the statistics have no entry for {key!r}")
        node_stats = np.asarray(stats[key], dtype=np.float64)
        pseudo = pseudo_statistics(prior, cpd)
        if pseudo is not None:
            node_stats = cpd.merge_statistics(node_stats, pseudo)
        if cpd.is_discrete:
            unseen += [f"{key} | {label}" for label in cpd.empty_configurations(node_stats)]
        shape_scale = variance_prior(prior, cpd)
        fitted[key] = (cpd.from_statistics(node_stats) if shape_scale is None
                       else cpd.from_statistics(node_stats, variance_prior=shape_scale))
    if unseen and not quiet:
        warnings.warn(f"{len(unseen)} parent configuration(s) never occur in the data, so their rows were set "
                      f"uniform: {'; '.join(unseen[:5])}{'; ...' if len(unseen) > 5 else ''}. A prior (e.g. "
                      "prior=pgm.Dirichlet(1)) gives them pseudo-counts instead.", UnseenConfigurationWarning,
                      stacklevel=caller_stacklevel())
    return network.with_cpds(fitted)


def _random_start(network, packed, space, factors, rng, prior):
    """EM's random start: statistics of a random hidden path made of runs (about 20 steps each) of random
    joint states (softened, so every state has some weight), which gives continuous CPDs means of different
    stretches of the data; then every table
    that involves a hidden node is averaged with a Dirichlet(1) draw, so no two hidden states start equal."""
    N, T, S = packed.n_sequences, packed.longest, space.size
    new_run = rng.random((N, T)) < 1 / 20
    new_run[:, 0] = True
    runs = np.cumsum(new_run.reshape(-1)).reshape(N, T) - 1
    state = rng.integers(S, size=int(runs.max()) + 1)[runs]
    fb = type("RandomPosterior", (), {})()
    # mostly the run's state, with a little of every state, so that no state starts without data
    fb.smoothed = 0.8 * np.eye(S)[state] + 0.2 * rng.dirichlet(np.ones(S), size=(N, T))
    evidence = evidence_terms(space, packed)
    if not np.isscalar(evidence):  # carried observed nodes keep their observed (or softly observed) values
        fb.smoothed = fb.smoothed * np.exp(evidence - evidence.max(axis=2, keepdims=True))
        fb.smoothed /= np.maximum(fb.smoothed.sum(axis=2, keepdims=True), 1e-300)
    fb.pair_steps = np.zeros((N, T, S, S))
    fb.pair_steps[:, 1:] = fb.smoothed[:, :-1, :, None] * fb.smoothed[:, 1:, None, :]
    fb._n_initial = network.n_initial
    valid = packed.valid
    fb.pair_sums = {}
    for t in range(1, min(T, network.n_initial)):
        fb.pair_sums[t] = (fb.pair_steps[:, t] * valid[:, t, None, None]).sum(axis=0)
    if T > network.n_initial:
        start = max(network.n_initial, 1)
        fb.pair_sums[-1] = (fb.pair_steps[:, start:] * valid[:, start:, None, None]).sum(axis=(0, 1))
    fitted = from_statistics(network, _statistics(network, packed, space, factors, fb), prior=prior, quiet=True)
    hidden = set(network.latent_nodes)
    shaken = {}
    for key, cpd in fitted._distinct_cpds().items():
        touches_hidden = cpd.variable in hidden or any(p.split("[")[0] in hidden for p in cpd.parents)
        if cpd.is_discrete and touches_hidden:
            noise = rng.dirichlet(np.ones(len(cpd.domain)), size=cpd.table.shape[:-1])
            table = (cpd.table + noise) / 2
            shaken[key] = type(cpd)(cpd.states, parents=cpd.parents, table=table).bind(
                cpd.variable, dict(zip(cpd.parents, cpd.parent_states)))
            shaken[key].latent = cpd.latent
    return fitted.with_cpds(shaken)


def fit(network, data, *, sequence=None, time=None, lengths=None, prior=None, max_iter: int = 100,
        tol: float = 1e-6, n_init: int = 1, init="random", seed=None, callback=None, progress: bool = False,
        soft=None, checkpoint=None):
    """Fit every CPD: closed form without hidden nodes, Baum-Welch (EM) with them.

    See :meth:`pgm.dynamic.DynamicBayesianNetwork.fit`.
    """
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative integer, got {max_iter!r}")
    if isinstance(n_init, bool) or not isinstance(n_init, int) or n_init < 1:
        raise ValueError(f"n_init must be a positive integer, got {n_init!r}")
    packed = pack_observed(network, data, sequence=sequence, time=time, lengths=lengths, soft=soft)
    shifted = centred(network, packed, prior)
    if shifted is not None:  # fit in centred coordinates, then move the intercepts back (pgm.dynamic.centring)
        locations, packed = shifted
        inner = None if callback is None else (
            lambda iteration, mean, current: callback(iteration, mean, shift_network(current, locations, -1.0)))
        fitted = _fit_packed(shift_network(network, locations, 1.0), packed, prior, max_iter, tol, n_init, init,
                             seed, inner, progress, soft, checkpoint)
        return shift_network(fitted, locations, -1.0)
    return _fit_packed(network, packed, prior, max_iter, tol, n_init, init, seed, callback, progress, soft,
                       checkpoint)


def _fit_packed(network, packed, prior, max_iter, tol, n_init, init, seed, callback, progress, soft, checkpoint):
    """:func:`fit` on packed data."""
    if is_linear_dynamical(network, packed):
        if soft:
            raise DataError("soft evidence is for discrete nodes; a linear dynamical system has none to soften")
        return _fit_runs(network, packed, None, prior, max_iter, tol, n_init, init, seed, callback, progress,
                         kalman_expected_statistics,
                         lambda rng: from_statistics(network, random_start_statistics(network, packed, rng),
                                                     prior=prior))
    space = hidden_space(network, packed)
    # complete enough for the closed form
    if not space.nodes and not gaussian_blocks(network, packed, space) and not gaussian_runs(network, packed):
        from pgm.dynamic.potentials import factors as all_factors

        stats = _statistics(network, packed, space, all_factors(network, space, packed.longest), None)
        return from_statistics(network, stats, prior=prior, quiet=False)
    from pgm.dynamic.potentials import factors as all_factors

    structure_factors = all_factors(network, space, packed.longest)
    e_step = _discrete_e_step if not checkpoint else (lambda current, piece: _discrete_e_step(current, piece,
                                                                                               checkpoint))
    return _fit_runs(network, packed, space, prior, max_iter, tol, n_init, init, seed, callback, progress,
                     e_step,
                     lambda rng: _random_start(network, packed, space, structure_factors, rng, prior))


def _fit_runs(network, packed, space, prior, max_iter, tol, n_init, init, seed, callback, progress, e_step,
              random_start):
    """EM from ``n_init`` random starts (or the current parameters), keeping the best run."""
    rng = as_generator(seed)
    if init == "current":
        starts = [network]
    elif init == "random":
        starts = None
    else:
        raise ValueError(f"init must be 'random' or 'current', got {init!r}")
    runs = []
    bar = _progress(progress, max_iter * (1 if starts else n_init))
    try:
        for restart in range(1 if starts else n_init):
            current = starts[0] if starts else random_start(rng)
            runs.append(_baum_welch(current, [lambda: packed], prior, max_iter, tol, callback, bar, e_step))
    finally:
        if bar is not None:
            bar.close()
    finals = [report.log_likelihood[-1] for _, report in runs]
    best = int(np.argmax(finals))
    fitted, report = runs[best]
    report.best_init, report.restarts, report.init, report.n_rows = best, finals, init, int(packed.lengths.sum())
    if not report.converged and max_iter > 0 and tol >= 0:  # a negative tol asks for exactly max_iter
        warnings.warn(f"Baum-Welch did not converge in {max_iter} iterations; raise max_iter or tol",
                      ConvergenceWarning, stacklevel=caller_stacklevel())
    fitted.fit_report_ = report
    return fitted


def checkpointed_statistics(network, packed, space, k):
    """Expected statistics and total log-likelihood, window by window (see :mod:`pgm.dynamic.checkpoints`)."""
    from pgm.dynamic.checkpoints import checkpointed_posteriors

    parts = []

    def visit(window, first, fb):
        parts.append(_statistics(network, window, space, fb._factors, fb, first))

    total = checkpointed_posteriors(network, packed, space, k, visit)
    stats = parts[0]
    for part in parts[1:]:
        stats = stats + part
    stats.total_weight = float(packed.lengths.sum())
    return stats, float(total.sum())


def _discrete_e_step(current, packed, checkpoint=None):
    if is_linear_dynamical(current, packed):  # a piece with missing values that later slices depend on
        return kalman_expected_statistics(current, packed)
    groups = None if checkpoint else reach_groups(current, packed)
    if groups is not None:  # sequences whose gaps need joint states of different sizes: each group its own
        parts = [_discrete_e_step(current, packed.subset(rows)) for rows in groups]
        stats = parts[0][0]
        for part, _ in parts[1:]:
            stats = stats + part
        return stats, float(sum(loglik for _, loglik in parts))
    space = hidden_space(current, packed)  # what each piece leaves unseen
    if checkpoint:
        from pgm.dynamic.checkpoints import window_length

        return checkpointed_statistics(current, packed, space, window_length(checkpoint, packed.longest, current))
    pot = potentials(current, packed, space)
    return expected_statistics(current, None, _prepared=(packed, space, pot))


def _baum_welch(network, sources, prior, max_iter, tol, callback, bar=None, e_step=_discrete_e_step):
    """EM over ``sources`` (callables returning packed data, e.g. one per partition): the E-step's statistics
    of every source are summed, so a source is in memory only while its own E-step runs."""
    report = FitReport()
    previous = None
    current = network
    for iteration in range(max_iter + 1):
        started = time.perf_counter()
        stats, total, steps = None, 0.0, 0
        for packed in (sources() if callable(sources) else (source() for source in sources)):
            piece, log_likelihood = e_step(current, packed)
            stats = piece if stats is None else stats + piece
            total += log_likelihood
            steps += int(packed.lengths.sum())
        mean = total / steps  # per step, so that tol does not depend on the amount of data
        report.log_likelihood.append(mean)
        report.objective.append(mean)
        if callback is not None:
            callback(iteration, mean, current)
        if previous is not None and mean - previous < tol:
            report.converged = True
            break
        if iteration == max_iter:
            break
        current = from_statistics(current, stats, prior=prior)
        report.n_iter = iteration + 1
        report.seconds_per_iteration.append(time.perf_counter() - started)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loglik=f"{mean:.6f}")
        previous = mean
    report.n_rows = steps
    return current, report


def fit_pieces(network, pieces, *, sequence: str, time=None, prior=None, max_iter: int = 100, tol: float = 1e-6,
               init="current", seed=None, callback=None):
    """Baum-Welch over data that arrive in pieces, each holding whole sequences (e.g. Dask partitions).

    Parameters
    ----------
    network : DynamicBayesianNetwork
    pieces : list of DataFrame, a Dask DataFrame, or pgm.io.Scan
        Each piece (partition) is a long DataFrame with the ``sequence`` id
        column; a sequence must not be split between pieces.  A Dask
        DataFrame is read one partition at a time, at every iteration.
        Scanned files (:func:`pgm.io.scan`) are read a chunk at a time and
        regrouped into whole sequences (:mod:`pgm.dynamic.files`); their
        rows of a sequence must be contiguous.
    init : {"current", "random"}
        ``"random"`` draws the start from the first piece.

    Returns
    -------
    DynamicBayesianNetwork
        With ``fit_report_``; the same parameters as fitting all the pieces
        at once (the statistics of whole sequences add).
    """
    from pgm.io.chunked import Scan

    if isinstance(pieces, Scan):  # files read a chunk at a time, regrouped into whole sequences every iteration
        from pgm.dynamic.files import whole_sequences

        def sources():
            return (pack_observed(network, piece, sequence=sequence, time=time)
                    for piece in whole_sequences(pieces, network, sequence=sequence, time=time))

        return _fit_sources(network, sources, lambda: next(iter(sources())), prior, max_iter, tol, init, seed,
                            callback)
    if hasattr(pieces, "npartitions"):
        frames = pieces
        loaders = [lambda i=i: frames.get_partition(i).compute() for i in range(pieces.npartitions)]
    else:
        frames = list(pieces)
        if not frames:
            raise DataError("no pieces to fit")
        loaders = [lambda f=f: f for f in frames]
    owner = {}
    for number, load in enumerate(loaders):  # one pass to check that no sequence is split between pieces
        for sid in load()[sequence].unique():
            sid = sid.item() if isinstance(sid, np.generic) else sid
            if sid in owner:
                raise DataError(f"sequence {sid!r} appears in pieces {owner[sid]} and {number}; split the data "
                                "into pieces by whole sequences")
            owner[sid] = number
    sources = [lambda load=load: pack_observed(network, load(), sequence=sequence, time=time) for load in loaders]
    return _fit_sources(network, sources, sources[0], prior, max_iter, tol, init, seed, callback)


def _fit_sources(network, sources, first_piece, prior, max_iter, tol, init, seed, callback):
    """EM over pieces (see :func:`_baum_welch`), started from the network or from the first piece; in centred
    coordinates (:mod:`pgm.dynamic.centring`) with the locations of the first piece."""
    shifted = centred(network, first_piece(), prior)
    if shifted is None:
        return _fit_sources_as_given(network, sources, first_piece, prior, max_iter, tol, init, seed, callback)
    locations = shifted[0]
    if callable(sources):
        def moved_sources(given=sources):
            return (shift_data(piece, locations) for piece in given())
    else:
        moved_sources = [lambda source=source: shift_data(source(), locations) for source in sources]
    inner = None if callback is None else (
        lambda iteration, mean, current: callback(iteration, mean, shift_network(current, locations, -1.0)))
    fitted = _fit_sources_as_given(shift_network(network, locations, 1.0), moved_sources,
                                   lambda: shift_data(first_piece(), locations), prior, max_iter, tol, init, seed,
                                   inner)
    return shift_network(fitted, locations, -1.0)


def _fit_sources_as_given(network, sources, first_piece, prior, max_iter, tol, init, seed, callback):
    if init == "random" and is_linear_dynamical(network):
        start = from_statistics(network, random_start_statistics(network, first_piece(), as_generator(seed)),
                                prior=prior)
    elif init == "random":
        from pgm.dynamic.potentials import factors as all_factors

        first = first_piece()
        space = hidden_space(network, first)
        start = _random_start(network, first, space, all_factors(network, space, first.longest), as_generator(seed),
                              prior)
    elif init == "current":
        start = network
    else:
        raise ValueError(f"init must be 'random' or 'current', got {init!r}")
    e_step = kalman_expected_statistics if is_linear_dynamical(network) else _discrete_e_step
    fitted, report = _baum_welch(start, sources, prior, max_iter, tol, callback, None, e_step)
    report.init = init
    if not report.converged and max_iter > 0 and tol >= 0:  # a negative tol asks for exactly max_iter
        warnings.warn(f"Baum-Welch did not converge in {max_iter} iterations; raise max_iter or tol",
                      ConvergenceWarning, stacklevel=caller_stacklevel())
    fitted.fit_report_ = report
    return fitted
