"""Warnings that point at the user's line, not at the minitf line that raised them.

A warning issued deep inside `from_pretrained` or `generate` is only useful if Python shows the
line of the notebook cell or script that called minitf; `user_stacklevel()` counts the frames
that belong to minitf and returns the `stacklevel` that skips them:

    >>> user_stacklevel()      # called from user code (this example): the warning's own line
    1

Inside minitf, `warnings.warn(message, stacklevel=user_stacklevel())` adds one level for each
minitf frame between the warning and the user.
"""
from __future__ import annotations

import os
import sys

_PACKAGE = os.path.dirname(os.path.abspath(__file__))  # .../minitf


def user_stacklevel() -> int:
    """The `stacklevel` that makes a warning point at the first caller outside minitf."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level
