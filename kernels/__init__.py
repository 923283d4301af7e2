"""Compiled kernels for minitf, installed as `minitf.kernels` (see setup.py's package_dir).

- `cpu`: Numba kernels registered for the ``numba`` backend.
- `gpu`: CUDA kernels (`*.cu`, compiled by CuPy's RawModule) registered for the ``cuda`` backend.

The NumPy ops in `minitf/ops.py` are the reference; a kernel must match them in a test.
"""
