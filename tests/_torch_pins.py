"""Values pinned per torch release.

torch promises the same results from the same seeds on the same release, build and
device only ("Reproducibility" in its documentation): another release may order a
floating-point sum differently (the default VAE step's reconstruction loss is 2838.678
under torch 2.13 and 2838.636 under 2.11, a relative 1.5e-5), and draw other values from a
seeded generator (``torch.nn.init.trunc_normal_``, which InfoGAN-CR's initialisation uses,
gives other weights from the same seed in torch 2.11 and 2.13). A test pinning the
values of a fit therefore keeps one set per torch release that CI runs (.ci/run: the
pinned versions and the oldest supported set), and skips, saying so, under any other.
"""

import pytest
import torch


def torch_release():
    """``"major.minor"`` of the torch imported here (``"2.13"`` for ``2.13.0+cpu``)."""
    return ".".join(torch.__version__.split("+")[0].split(".")[:2])


def for_this_torch(values_by_release, how_to_pin):
    """The entry of ``values_by_release`` for this torch release; the test is skipped, with
    ``how_to_pin`` in its reason, where there is none."""
    release = torch_release()
    if release not in values_by_release:
        pytest.skip(f"no values pinned for torch {release} (pinned: "
                    f"{', '.join(sorted(values_by_release))}); {how_to_pin}")
    return values_by_release[release]
