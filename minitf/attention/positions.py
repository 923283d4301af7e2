"""Position encodings: sinusoidal (Vaswani et al. 2017) and axial (Reformer).

**Axial** positions factorise a [l, d] table. With l = l1 * l2 and d = d1 + d2, two small
tables E1 [l1, d1] and E2 [l2, d2] give position j the vector

    axial(j) = concat(E1[j // l2], E2[j % l2])            (d1 + d2 = d values)

i.e. the positions are laid out row-major on an l1 x l2 grid: j = i1 * l2 + i2, E1 is indexed
by the row i1 and E2 by the column i2. This is transformers' `AxialPositionEmbeddings`: its
weights are stored [l1, 1, d1] and [1, l2, d2], broadcast to [l1, l2, d1 + d2] and reshaped to
[l1 * l2, d] (row-major). Example with axial_pos_shape (2, 3): positions 0 1 2 | 3 4 5 take
E1 rows 0 0 0 | 1 1 1 and E2 rows 0 1 2 | 0 1 2.

    >>> E1 = np.array([[0.], [1.]], np.float32)            # l1 = 2, d1 = 1
    >>> E2 = np.array([[10.], [20.], [30.]], np.float32)   # l2 = 3, d2 = 1
    >>> axial_position_table(E1, E2).tolist()
    [[0.0, 10.0], [0.0, 20.0], [0.0, 30.0], [1.0, 10.0], [1.0, 20.0], [1.0, 30.0]]
    >>> position_parameter_counts((64, 64), (64, 192))    # transformers' ReformerConfig defaults
    {'axial': 16384, 'full': 1048576, 'ratio': 64.0}

The saving is l*d / (l1*d1 + l2*d2): for 4096 positions x 256 values, 64 times fewer numbers.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module


def sinusoidal_positions(n_positions: int, dim: int, halves: bool = False) -> np.ndarray:
    """[n_positions, dim] float32 of sin(pos / 10000^(2i/dim)) and cos of the same angle.

    Interleaved (column 2i the sin, 2i+1 the cos: DistilBERT's `sinusoidal_pos_embds`), or with
    `halves` every sin first and then every cos (Marian's static positions):

        >>> sinusoidal_positions(2, 4).astype(float).round(3).tolist()
        [[0.0, 1.0, 0.0, 1.0], [0.841, 0.54, 0.01, 1.0]]
        >>> sinusoidal_positions(2, 4, halves=True).astype(float).round(3).tolist()
        [[0.0, 0.0, 1.0, 1.0], [0.841, 0.01, 0.54, 1.0]]
    """
    pos = np.arange(n_positions, dtype=np.float64)[:, None]  # [P, 1]
    j = np.arange(dim)  # [dim]
    angle = pos / np.power(10000.0, 2 * (j // 2) / dim)  # [P, dim]
    out = np.empty((n_positions, dim), np.float32)
    if halves:
        n_sin = (dim + 1) // 2
        out[:, :n_sin] = np.sin(angle[:, 0::2])
        out[:, n_sin:] = np.cos(angle[:, 1::2])
    else:
        out[:, 0::2] = np.sin(angle[:, 0::2])
        out[:, 1::2] = np.cos(angle[:, 1::2])
    return out


def _as_2d(table, name: str):
    """Accept a factor table as [l_i, d_i] or in the checkpoint's broadcast shape ([l1, 1, d1],
    [1, l2, d2]); return it as [l_i, d_i]."""
    if table.ndim == 2:
        return table
    if table.ndim == 3 and 1 in table.shape[:2]:
        return table.reshape(-1, table.shape[-1])
    raise ValueError(f"{name} must have shape (l, d) or (l, 1, d) / (1, l, d); got {tuple(table.shape)}")


def axial_position_table(E1, E2):
    """The full [l1 * l2, d1 + d2] table the two factors stand for: row j = concat(E1[j // l2],
    E2[j % l2]). E1: [l1, d1] (or [l1, 1, d1]); E2: [l2, d2] (or [1, l2, d2])."""
    xp = get_array_module(E1)
    E1, E2 = _as_2d(E1, "E1"), _as_2d(E2, "E2")
    (l1, d1), (l2, d2) = E1.shape, E2.shape
    rows = xp.broadcast_to(E1[:, None, :], (l1, l2, d1))  # [l1, l2, d1]: E1 depends on the row
    cols = xp.broadcast_to(E2[None, :, :], (l1, l2, d2))  # [l1, l2, d2]: E2 on the column
    return xp.concatenate([rows, cols], axis=-1).reshape(l1 * l2, d1 + d2)  # [l, d]


def axial_position_embeddings(E1, E2, position_ids):
    """Embeddings of the given positions without building the whole table.

    position_ids: int [...] in 0 .. l1 * l2 - 1 -> [..., d1 + d2], each concat(E1[j // l2], E2[j % l2]).
    """
    xp = get_array_module(E1)
    E1, E2 = _as_2d(E1, "E1"), _as_2d(E2, "E2")
    l1, l2 = E1.shape[0], E2.shape[0]
    position_ids = xp.asarray(position_ids)
    if position_ids.size and (int(position_ids.min()) < 0 or int(position_ids.max()) >= l1 * l2):
        raise ValueError(f"position ids must lie in 0..{l1 * l2 - 1} for an axial shape ({l1}, {l2}); "
                         f"got {int(position_ids.min())}..{int(position_ids.max())}")
    row, col = position_ids // l2, position_ids % l2  # [...] each
    return xp.concatenate([E1[row], E2[col]], axis=-1)  # [..., d1 + d2]


def position_parameter_counts(axial_pos_shape, axial_pos_embds_dim) -> dict:
    """Numbers stored by an axial table vs a full [l1 * l2, d1 + d2] table, and their ratio."""
    (l1, l2), (d1, d2) = axial_pos_shape, axial_pos_embds_dim
    axial, full = l1 * d1 + l2 * d2, l1 * l2 * (d1 + d2)
    return {"axial": axial, "full": full, "ratio": full / axial}
