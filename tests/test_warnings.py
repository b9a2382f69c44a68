"""The package's warnings point at the user's line, however deep inside they are raised."""

import inspect
import sys
import warnings

import numpy as np
import pytest

from disentangle import VAE
from disentangle._engine import StretchMonitor, TrainingWarning
from disentangle._warnings import SKIPPED_PREFIXES, stacklevel_outside, user_frame

TABLE = np.random.RandomState(0).randn(12, 3)


def caught(category, call):
    """The warnings of ``category`` that the lambda ``call`` raises, and the line it is on."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        call()
    return ([record for record in records if issubclass(record.category, category)],
            call.__code__.co_firstlineno)


def test_a_warning_inside_fit_points_at_the_line_that_called_fit():
    # batch_size > samples: warned in GenerativeEstimator._validate_training_data, below
    # scikit-learn's fit wrapper and three of the package's frames.
    records, line = caught(UserWarning, lambda: VAE(batch_size=64, max_iter=1).fit(TABLE))
    assert [str(r.message)[:14] for r in records] == ["batch_size=64 "]
    assert (records[0].filename, records[0].lineno) == (__file__, line)


class LowLoss(StretchMonitor):
    key, problem = "train_loss", "the loss is finite"


def test_a_warning_from_a_callback_in_skorchs_loop_points_at_the_fit_line():
    model = VAE(batch_size=4, max_iter=2, callbacks=[("low", LowLoss(np.inf, 1))])
    records, line = caught(TrainingWarning, lambda: model.fit(TABLE))
    assert len(records) == 1 and "the loss is finite" in str(records[0].message)
    assert (records[0].filename, records[0].lineno) == (__file__, line)


def test_a_warning_from_generate_points_at_the_users_line():
    model = VAE(batch_size=4, max_iter=1).fit(TABLE)
    records, line = caught(UserWarning, lambda: model.generate(np.full((1, 10), 50.0)))
    assert len(records) == 1
    assert (records[0].filename, records[0].lineno) == (__file__, line)


def test_stacklevel_counts_the_skipped_frames():
    assert stacklevel_outside(sys._getframe()) == 1  # this file is not skipped
    assert __file__.startswith(SKIPPED_PREFIXES) is False
    assert inspect.getfile(VAE).startswith(SKIPPED_PREFIXES)
    kwargs = user_frame()
    if sys.version_info >= (3, 12):
        assert kwargs == {"skip_file_prefixes": SKIPPED_PREFIXES}
    else:
        assert kwargs == {"stacklevel": 1}


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the frame walk runs on Python 3.11")
def test_the_frame_walk_skips_package_frames():
    # A frame whose code claims a file of the package is skipped, and its caller is named.
    code = compile("stacklevel_outside(sys._getframe())", SKIPPED_PREFIXES[0] + "fake.py", "eval")
    assert eval(code, {"stacklevel_outside": stacklevel_outside, "sys": sys}) == 2
