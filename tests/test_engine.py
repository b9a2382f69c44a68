"""The skorch engine honours skorch's callback hooks (issue 14, item 4)."""

import numpy as np
import pytest
from skorch.callbacks import Callback, GradientNormClipping

from disentangle import VAE, InfoGANCR

TINY = dict(max_iter=3, batch_size=8, device="cpu", random_state=0)


class RecordGradients(Callback):
    """Record, per ``on_grad_computed`` call, the module prefixes and whether every
    parameter named has a gradient; and the arguments of ``on_batch_begin``."""

    def initialize(self):
        self.calls_, self.batches_ = [], []
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        self.batches_.append((None if batch is None else tuple(batch.shape), training))

    def on_grad_computed(self, net, named_parameters, batch=None, training=None, **kwargs):
        named = list(named_parameters)
        self.calls_.append((sorted({name.split(".")[0] for name, _ in named}),
                            all(p.grad is not None for _, p in named), batch is not None,
                            training))


@pytest.fixture(scope="module")
def table():
    return np.random.RandomState(0).randn(32, 4).astype(np.float32)


@pytest.mark.parametrize(("estimator", "steps"), [
    (VAE(objective="factor", **TINY), [["encoder_", "module_"], ["tc_discriminator_"]]),
    (InfoGANCR(cr_start=0, **TINY),
     [["cr_discriminator_"], ["discriminator_"], ["module_"], ["module_"]]),
])
def test_on_grad_computed_once_per_optimiser_step_with_its_modules(estimator, steps, table):
    recorder = RecordGradients()
    estimator.set_params(callbacks=[recorder]).fit(table)
    assert [call[0] for call in recorder.calls_] == steps * 3
    assert all(has_grad and has_batch and training
               for _, has_grad, has_batch, training in recorder.calls_)
    assert recorder.batches_ == [((8, 4), True)] * 3


@pytest.mark.parametrize("estimator", [VAE(**TINY), InfoGANCR(cr_start=0, **TINY)],
                         ids=["VAE", "InfoGANCR"])
def test_gradient_norm_clipping_changes_training(estimator, table):
    plain = estimator.fit(table).transform(table)
    clipped = estimator.set_params(
        callbacks=[GradientNormClipping(gradient_clip_value=1e-8)]).fit(table).transform(table)
    assert not np.array_equal(plain, clipped)
    # Clipped to norm 1e-8, the gradients are of the order of Adam's eps: the steps differ.
    # Without the callback the same seed gives the same codes again.
    again = estimator.set_params(callbacks=None).fit(table).transform(table)
    np.testing.assert_array_equal(plain, again)
