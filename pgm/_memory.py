"""How much memory this machine has, to refuse sizes that cannot fit before allocating them."""

from __future__ import annotations

import os

__all__ = ["physical_memory"]


def physical_memory() -> int:
    """Bytes of physical memory (a very large number where the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return 1 << 62
