"""Warnings that point at the user's line: :func:`user_frame`.

A warning raised deep inside ``fit`` should name the line that called ``fit``,
whatever the depth of the calls in between. ``warnings.warn(...,
**user_frame())`` attributes it to the first frame, walking out from the
warning, that is neither in this package nor in the libraries that call back
into it (scikit-learn's ``fit`` wrappers, skorch's training loop and
callbacks, joblib, torch, ``contextlib``). Python 3.12 does that walk itself
(``warnings.warn``'s ``skip_file_prefixes``); on 3.11 :func:`user_frame`
counts the frames to skip and gives ``stacklevel``.
"""

import contextlib
import os
import sys

import joblib
import sklearn
import skorch
import torch


def _folder(module):
    return os.path.dirname(module.__file__) + os.sep


#: Files whose frames a warning skips: this package's and those of the libraries that call it.
SKIPPED_PREFIXES = (
    os.path.dirname(__file__) + os.sep,
    *(_folder(module) for module in (sklearn, skorch, joblib, torch)),
    contextlib.__file__,
)


def _skipped(frame):
    return frame.f_code.co_filename.startswith(SKIPPED_PREFIXES)


def stacklevel_outside(frame):
    """The ``stacklevel`` of the first frame from ``frame`` outwards that is not skipped.

    Parameters
    ----------
    frame : frame
        The frame that calls ``warnings.warn`` (``stacklevel=1``).

    Returns
    -------
    stacklevel : int, >= 1
        One more than the number of skipped frames from ``frame`` outwards
        (past the outermost frame when all are skipped: the warning then
        names ``sys``).
    """
    level = 1
    while frame is not None and _skipped(frame):
        frame, level = frame.f_back, level + 1
    return level


def user_frame():
    """Keyword arguments of ``warnings.warn`` that attribute a warning to the user's frame.

    Call it in the frame that calls ``warnings.warn``:
    ``warnings.warn(message, UserWarning, **user_frame())``.

    Returns
    -------
    kwargs : dict
        ``{"skip_file_prefixes": SKIPPED_PREFIXES}`` on Python >= 3.12, else
        ``{"stacklevel": n}`` from :func:`stacklevel_outside`.
    """
    if sys.version_info >= (3, 12):
        return {"skip_file_prefixes": SKIPPED_PREFIXES}
    return {"stacklevel": stacklevel_outside(sys._getframe(1))}
