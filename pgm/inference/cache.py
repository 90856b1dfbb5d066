"""A bounded cache of compiled inference plans, least recently used first out, sized in bytes.

Compiling a junction tree (an elimination order, the cliques, the product
of the CPD tables that no evidence touches) costs more than answering a
small query, so each network keeps the plans it compiled, keyed by their
structure (which nodes are observed, not their values).  A long-running
service sees many evidence patterns, so the cache is bounded: it holds at
most ``max_bytes`` of plans -- priced from the table sizes when a plan is
stored -- and evicts the least recently used ones beyond that.  A plan larger
than the whole cache is used for its call and not kept.

The default, :data:`DEFAULT_PLAN_CACHE_BYTES` (256 MiB), holds every plan of
the bundled networks many times over; change it per network with
``pgm.inference.plan_cache(net).max_bytes = ...`` (0 keeps nothing).
``net.inference_plan()`` reports what the cache holds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import contextmanager

import numpy as np

__all__ = ["DEFAULT_PLAN_CACHE_BYTES", "PlanCache", "plan_cache"]

#: Default bound of each network's plan cache, in bytes.
DEFAULT_PLAN_CACHE_BYTES = 256 << 20


class PlanCache:
    """Least-recently-used plans of one network, at most ``max_bytes`` of them.

    Attributes
    ----------
    max_bytes : int
        The bound; setting it evicts at once down to the new bound.
    nbytes : int
        Bytes of the plans held (as priced when stored).
    hits, misses, evictions : int
        Counters since the cache was made.

    Examples
    --------
    >>> cache = PlanCache(max_bytes=100)
    >>> cache.put("a", object(), 60); cache.put("b", object(), 60)
    >>> cache.get("a") is None, cache.nbytes, cache.evictions
    (True, 60, 1)
    """

    def __init__(self, max_bytes: int = DEFAULT_PLAN_CACHE_BYTES, *, on_resize=None):
        self._on_resize = on_resize  # the network remembers its bound across edits that empty the cache
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._max = _check(max_bytes)
        self.nbytes = 0
        self.hits = self.misses = self.evictions = 0
        self._scan: set | None = None   # keys stored during the current batch (see scan())
        self._scan_depth = 0

    @property
    def max_bytes(self) -> int:
        return self._max

    @max_bytes.setter
    def max_bytes(self, value: int) -> None:
        with self._lock:
            self._max = _check(value)
            self._evict()
        if self._on_resize is not None:
            self._on_resize(self._max)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key):
        """The plan stored under ``key`` (now the most recently used), or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            if self._scan is not None:
                self._scan.add(key)  # used by this batch: not evicted for a later plan of the same batch
            return item[0]

    def put(self, key, value, nbytes: int) -> None:
        """Store ``value`` priced at ``nbytes``; evict the least recently used beyond ``max_bytes``.

        Within :meth:`scan`, a plan that could be kept only by evicting one
        stored earlier in the same scan is not kept.
        """
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.nbytes -= old[1]
            if nbytes > self._max:
                return  # larger than the whole cache: used once, not kept
            if self._scan is not None:
                others = sum(size for k, (_, size) in self._items.items() if k not in self._scan)
                if self.nbytes - others + int(nbytes) > self._max:
                    return  # only this batch's own plans could make room: keep those
                self._scan.add(key)
            self._items[key] = (value, int(nbytes))
            self.nbytes += int(nbytes)
            self._evict()

    @contextmanager
    def scan(self):
        """A batch of plans, each used once in turn: the first ones that fit are kept, not the last.

        Plain LRU fails on a batch whose plans do not all fit: each plan
        evicts one stored just before, and repeating the batch finds none.
        Within a scan a plan never evicts one stored or used earlier in the
        scan (only plans the batch has not touched, least recently used
        first), so a repeated batch finds the plans of its first rows.

        Examples
        --------
        >>> cache = PlanCache(100)
        >>> with cache.scan():
        ...     for k in range(5):
        ...         cache.put(k, "plan", 40)
        >>> sorted(cache._items)
        [0, 1]
        """
        with self._lock:
            self._scan_depth += 1
            if self._scan is None:
                self._scan = set()
        try:
            yield self
        finally:
            with self._lock:
                self._scan_depth -= 1
                if self._scan_depth == 0:
                    self._scan = None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.nbytes = 0

    def _evict(self) -> None:
        for key in list(self._items):
            if self.nbytes <= self._max:
                break
            if self._scan is not None and key in self._scan:
                continue
            _, size = self._items.pop(key)
            self.nbytes -= size
            self.evictions += 1


def _check(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"max_bytes must be a non-negative whole number of bytes, got {value!r}")
    return int(value)


def plan_cache(network) -> PlanCache:
    """The plan cache of ``network`` (made on first use, with :data:`DEFAULT_PLAN_CACHE_BYTES`).

    Set its ``max_bytes`` to change the bound for this network; the bound
    survives edits of the network, which empty the cache.

    Examples
    --------
    >>> import pgm
    >>> net = pgm.load("asia")
    >>> pgm.inference.plan_cache(net).max_bytes = 1 << 20
    >>> _ = net.query("lung", evidence={"xray": "yes"})
    >>> cache = pgm.inference.plan_cache(net)
    >>> len(cache) >= 1, cache.nbytes <= cache.max_bytes
    (True, True)
    """
    cache = getattr(network, "_inference_cache", None)
    if not isinstance(cache, PlanCache):
        cache = PlanCache(getattr(network, "_plan_cache_bytes", DEFAULT_PLAN_CACHE_BYTES),
                          on_resize=lambda value: setattr(network, "_plan_cache_bytes", value))
        network._inference_cache = cache
    return cache
