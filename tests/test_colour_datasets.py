"""Colour end to end: 3-channel datasets through fit, traversal plots, the demo; bounded memory."""

import tracemalloc

import joblib
import numpy as np
import pytest

from disentangle import VAE, InfoGANCR, cli
from disentangle.datasets import Shapes3D
from disentangle.datasets.synthetic import write_shapes3d
from disentangle.plotting import plot_traversals


@pytest.fixture(scope="module")
def shapes3d(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shapes3d")
    write_shapes3d(folder / "3dshapes.h5", (2, 2, 2, 2, 4, 3))
    return Shapes3D(folder, data_home=folder / "home")


@pytest.mark.parametrize("Estimator", [InfoGANCR, VAE])
def test_colour_dataset_trains_and_plots_in_colour(shapes3d, Estimator):
    model = Estimator(max_iter=2, batch_size=16, random_state=0, device="cpu")
    model.fit(shapes3d.images)
    assert model.image_shape_ == (3, 64, 64) and model.input_scale_ == 1 / 255
    assert model.sample(2, random_state=0).shape == (2, 3, 64, 64)
    fig = plot_traversals(model, n_steps=3)
    shown = fig.axes[0].get_images()[0].get_array()
    assert shown.shape == (64, 64, 3)  # RGB, not a grey colormap of one channel


def test_demo_trains_and_scores_on_shapes3d(shapes3d, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "DEMO_SCORE", {"protocol": "paper", "n_train": 12,
                                            "n_variance": 200})
    monkeypatch.setenv("DISENTANGLE_DATA", str(tmp_path / "home"))
    out = tmp_path / "out"
    assert cli.main(["demo", "--dataset", "shapes3d", "--data-path", str(shapes3d.source_path),
                     "--max-iter", "2", "--batch-size", "16", "--output", str(out),
                     "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Shapes3D: 192 images of shape (3, 64, 64)" in printed
    score = float(printed.split("FactorVAE score (paper protocol, 500 votes): ")[1].split()[0])
    assert 0 <= score <= 1 and "chance 1/6" in printed
    assert joblib.load(out / "model.joblib").image_shape_ == (3, 64, 64)


def test_memory_stays_far_below_the_file_while_caching_and_training(tmp_path):
    sizes = (4, 4, 4, 8, 4, 15)  # 30,720 images: 377 MB of uint8 pixels
    path = tmp_path / "3dshapes.h5"
    write_shapes3d(path, sizes)
    file_size = path.stat().st_size
    model = InfoGANCR(max_iter=3, batch_size=64, random_state=0, device="cpu")
    model.fit(np.zeros((64, 3, 64, 64), np.uint8))  # imports and first-call set-up, untraced
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        data = Shapes3D(path, data_home=tmp_path / "home")
        images = data.images  # decoded into the channel-first cache, chunk by chunk
        model.fit(images)
        data.sample_observations_from_factors(data.sample_factors(256, random_state=0))
        _, peak = tracemalloc.get_traced_memory()
        peak -= baseline
    finally:
        tracemalloc.stop()
    assert images.shape == (30720, 3, 64, 64) and isinstance(images, np.memmap)
    # One chunk of the file at a time (25 MB, plus its channel-first copy): a full
    # uint8 copy would be 377 MB, a float32 copy 1.5 GB.
    assert peak < 0.2 * file_size, (peak, file_size)
    print(f"traced peak {peak / 2**20:.0f} MiB for a file of {file_size / 2**20:.0f} MiB")
