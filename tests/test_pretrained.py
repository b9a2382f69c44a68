"""Pretrained models by name, offline, checksummed (disentangle.pretrained)."""

import hashlib

import numpy as np
import pytest

from disentangle import VAE, InfoGANCR, pretrained


@pytest.fixture(scope="module")
def images():
    rng = np.random.RandomState(0)
    return (rng.rand(48, 32, 32) > 0.8).astype(np.uint8)


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """An empty registry over a folder of tmp_path; returns a function registering a model."""
    monkeypatch.setattr(pretrained, "MODELS", {})
    monkeypatch.setattr(pretrained, "FOLDER", tmp_path)

    def register(name, model, **entry):
        digest = pretrained.pack_pretrained(model, tmp_path / f"{name}.pretrained.xz")
        pretrained.MODELS[name] = pretrained.PretrainedModel(
            file=f"{name}.pretrained.xz", sha256=digest, **{"dataset": "dsprites",
                                                              "iterations": model.n_iter_,
                                                              **entry})
        return tmp_path / f"{name}.pretrained.xz"

    return register


@pytest.mark.parametrize("Estimator", [InfoGANCR, VAE])
def test_a_registered_model_loads_by_name_as_it_was_fitted(Estimator, images, registry):
    model = Estimator(max_iter=4, batch_size=16, random_state=0, device="cpu").fit(images)
    path = registry("tiny", model)
    assert pretrained.list_pretrained() == ["tiny"] == pretrained.list_pretrained("dsprites")
    assert pretrained.list_pretrained("shapes3d") == []
    loaded = pretrained.load_pretrained("tiny")
    assert type(loaded) is Estimator and loaded.n_iter_ == 4
    np.testing.assert_array_equal(loaded.transform(images[:5]), model.transform(images[:5]))
    np.testing.assert_array_equal(loaded.sample(3, random_state=1), model.sample(3, random_state=1))
    # Compact: one history row per pass with its last iteration only, no Adam moments.
    assert all(len(row["batches"]) == 1 for row in loaded.history_)
    assert max(len(row["batches"]) for row in model.history_) == 3  # 48 images, 16 a batch
    assert loaded.checkpoint_dir is None and not loaded.warm_start
    assert hashlib.sha256(path.read_bytes()).hexdigest() == pretrained.MODELS["tiny"].sha256
    # Still an estimator: training continues from it.
    loaded.set_params(warm_start=True, max_iter=6).fit(images)
    assert loaded.n_iter_ == 6 and model.n_iter_ == 4


def test_a_file_that_does_not_match_its_checksum_is_not_loaded(images, registry):
    path = registry("tiny", InfoGANCR(max_iter=2, batch_size=16, random_state=0).fit(images))
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not the registered"):
        pretrained.load_pretrained("tiny")
    path.unlink()
    with pytest.raises(FileNotFoundError, match="'tiny' is missing"):
        pretrained.load_pretrained("tiny")


def test_an_unknown_name_lists_the_registered_ones(images, registry):
    with pytest.raises(KeyError, match="no pretrained model 'paper'; registered: none yet"):
        pretrained.load_pretrained("paper")
    registry("tiny", InfoGANCR(max_iter=2, batch_size=16, random_state=0).fit(images))
    with pytest.raises(KeyError, match="registered: tiny"):
        pretrained.load_pretrained("paper")


def test_the_registered_files_are_in_the_package_with_their_checksums():
    for name, entry in pretrained.MODELS.items():
        data = (pretrained.FOLDER / entry.file).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry.sha256, name
