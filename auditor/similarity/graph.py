"""Connected components of a pair graph, by array union-find (no Python loop over pairs)."""

from __future__ import annotations

import numpy as np


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected components of the pair graph; each row's label is its component's smallest index.

    Array union-find: hook the larger root under the smaller (``np.minimum.at``) and compress
    paths by pointer jumping until every edge joins equal labels. Pointers only point down,
    so the surviving root is the component minimum (deterministic labels).

    Args:
        n: Number of rows.
        left: Row indices.
        right: Row indices.

    Returns:
        int64 array (n,) of labels.
    """
    labels = np.arange(n, dtype=np.int64)
    left = np.asarray(left, np.int64)
    right = np.asarray(right, np.int64)
    while len(left):
        lr, rr = labels[left], labels[right]
        diff = lr != rr
        if not diff.any():
            break
        left, right, lr, rr = left[diff], right[diff], lr[diff], rr[diff]
        np.minimum.at(labels, np.maximum(lr, rr), np.minimum(lr, rr))
        while True:
            nxt = labels[labels]
            if np.array_equal(nxt, labels):
                break
            labels = nxt
    return labels
