"""Maximum bipartite matching (Hopcroft-Karp), compiled: what matched edge F1 counts.

    left vertices (decoded edge pixels) --CSR adjacency (indptr, indices)--> right vertices
    (reference edge pixels within the tolerance) ==> the size of a maximum matching

Every maximum matching has the same size, so any exact algorithm gives the same F1. Edge
maps make graphs of low degree (at most 29 neighbours within 3 px) where a greedy start
matches most pixels; the phases of Hopcroft-Karp then find the few augmenting paths left,
in O(E sqrt(V)) at worst.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_FAR = np.iinfo(np.int64).max


@njit(cache=True)
def matching_size(indptr, indices, n_right):
    """The number of edges in a maximum matching of the bipartite graph whose left vertex
    ``u`` is joined to the right vertices ``indices[indptr[u]:indptr[u + 1]]``."""
    n_left = indptr.size - 1
    match_l = np.full(n_left, -1, np.int64)
    match_r = np.full(n_right, -1, np.int64)
    size = 0
    for u in range(n_left):  # greedy start
        for k in range(indptr[u], indptr[u + 1]):
            if match_r[indices[k]] < 0:
                match_l[u], match_r[indices[k]] = indices[k], u
                size += 1
                break
    dist = np.empty(n_left, np.int64)
    queue = np.empty(n_left, np.int64)
    stack = np.empty(n_left, np.int64)
    at = np.empty(n_left, np.int64)  # the next neighbour a vertex on the path tries
    while True:
        # layers from the free left vertices, alternating along matched edges
        tail = 0
        for u in range(n_left):
            if match_l[u] < 0:
                dist[u] = 0
                queue[tail] = u
                tail += 1
            else:
                dist[u] = _FAR
        found, head = _FAR, 0
        while head < tail:
            u = queue[head]
            head += 1
            if dist[u] >= found:
                continue
            for k in range(indptr[u], indptr[u + 1]):
                w = match_r[indices[k]]
                if w < 0:
                    found = min(found, dist[u] + 1)
                elif dist[w] == _FAR:
                    dist[w] = dist[u] + 1
                    queue[tail] = w
                    tail += 1
        if found == _FAR:
            return size
        # shortest augmenting paths, vertex-disjoint, by depth-first search along the layers
        for s in range(n_left):
            if match_l[s] >= 0:
                continue
            top = 0
            stack[0], at[s] = s, indptr[s]
            while top >= 0:
                u = stack[top]
                if at[u] == indptr[u + 1]:  # a dead end for the rest of this phase
                    dist[u] = _FAR
                    top -= 1
                    continue
                v = indices[at[u]]
                at[u] += 1
                w = match_r[v]
                if w < 0:
                    if dist[u] + 1 == found:  # flip the path: each vertex takes the v it tried
                        for i in range(top, -1, -1):
                            x = stack[i]
                            y = indices[at[x] - 1]
                            match_l[x], match_r[y] = y, x
                        size += 1
                        break
                elif dist[w] == dist[u] + 1:
                    top += 1
                    stack[top], at[w] = w, indptr[w]


@njit(cache=True)
def pixel_graph(decoded, reference, offsets):
    """The bipartite graph of two boolean maps: each decoded pixel (raster order) joined to
    the reference pixels at ``offsets`` (k, 2) from it; (indptr, indices, reference pixels),
    the reference pixels numbered in raster order."""
    h, w = decoded.shape
    number = np.full((h, w), -1, np.int64)
    n_right = 0
    for y in range(h):
        for x in range(w):
            if reference[y, x]:
                number[y, x] = n_right
                n_right += 1
    n_left = 0
    for y in range(h):
        for x in range(w):
            if decoded[y, x]:
                n_left += 1
    indptr = np.zeros(n_left + 1, np.int64)
    indices = np.empty(n_left * offsets.shape[0], np.int64)
    u, k = 0, 0
    for y in range(h):
        for x in range(w):
            if not decoded[y, x]:
                continue
            for i in range(offsets.shape[0]):
                yy, xx = y + offsets[i, 0], x + offsets[i, 1]
                if 0 <= yy < h and 0 <= xx < w and number[yy, xx] >= 0:
                    indices[k] = number[yy, xx]
                    k += 1
            u += 1
            indptr[u] = k
    return indptr, indices[:k], n_right
