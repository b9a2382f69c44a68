"""Persistence: joblib and pickle, CUDA-fitted models on CPU-only machines, versions,
corrupted files (issue 6, part 6); files from other versions (issue 14, item 6)."""

import hashlib
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch.exceptions import DeviceWarning

import disentangle._checkpoint as checkpoints
import disentangle._engine as engine
import disentangle._persistence as persistence
from disentangle import VAE, InfoGANCR, __version__
from disentangle._engine import TrainingWarning, generator_state, restore_generator
from disentangle.exceptions import InconsistentVersionWarning

RNG = np.random.RandomState(0)
DATA = {"table": RNG.randn(40, 5), "images": (RNG.rand(24, 64, 64) > 0.8).astype(np.uint8)}
COMMON = dict(max_iter=3, batch_size=8, random_state=0, device="cpu")
ESTIMATORS = {"infogan-cr": InfoGANCR(cr_start=1, **COMMON),
              "factor-vae": VAE(objective="factor", **COMMON)}


@pytest.fixture(scope="module", params=[(e, d) for e in ESTIMATORS for d in DATA],
                ids=lambda p: "-".join(p))
def fitted(request):
    name, kind = request.param
    return ESTIMATORS[name].__class__(**ESTIMATORS[name].get_params()).fit(DATA[kind]), DATA[kind]


def assert_same_predictions(a, b, X):
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.sample(4, random_state=0), b.sample(4, random_state=0))


@pytest.mark.parametrize("how", ["joblib", "pickle"])
def test_round_trip(fitted, how, tmp_path):
    model, X = fitted
    if how == "joblib":
        joblib.dump(model, tmp_path / "model.joblib")
        copy = joblib.load(tmp_path / "model.joblib")
    else:
        copy = pickle.loads(pickle.dumps(model))
    assert_same_predictions(copy, model, X)
    assert copy.n_iter_ == model.n_iter_ and copy.input_shape_ == model.input_shape_
    assert copy.device_ == model.device_ and len(copy.history_) == len(model.history_)
    assert hasattr(model, "net_")  # pickling does not strip the original


def test_round_trip_keeps_training_resumable(fitted):
    model, X = fitted
    copy = pickle.loads(pickle.dumps(model))
    copy.set_params(warm_start=True, max_iter=5).fit(X)
    longer = model.__class__(**{**model.get_params(), "max_iter": 5}).fit(X)
    np.testing.assert_array_equal(copy.transform(X), longer.transform(X))


def test_pickles_hold_no_training_data():
    X = DATA["images"]
    model = InfoGANCR(**COMMON).fit(X)
    assert model.net_._batch_iterator is None
    assert X.tobytes()[:4096] not in pickle.dumps(model)


def test_unfitted_estimators_round_trip():
    copy = pickle.loads(pickle.dumps(VAE(n_latent=3)))
    assert copy.get_params() == VAE(n_latent=3).get_params()


def _pretend_fitted_on_cuda(model, monkeypatch):
    """A pickle as written on a CUDA machine: skorch keeps the device in the net's state;
    our net saves its random generator with the device it lived on."""
    model.net_.device = "cuda"
    model.device_ = torch.device("cuda")

    def cuda_generator_state(generator):
        return {**generator_state(generator), "device": "cuda"}

    monkeypatch.setattr(engine, "generator_state", cuda_generator_state)
    payload = pickle.dumps(model)
    monkeypatch.undo()
    return payload


def test_a_cuda_fitted_model_loads_on_a_cpu_only_machine(fitted, monkeypatch):
    model, X = fitted
    reference = pickle.loads(pickle.dumps(model))
    payload = _pretend_fitted_on_cuda(pickle.loads(pickle.dumps(model)), monkeypatch)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning, match="fitted on cuda, which is not available here; it is "
                                           "loaded on cpu"):
        loaded = pickle.loads(payload)
    assert loaded.device_ == torch.device("cpu") and torch.device(loaded.net_.device).type == "cpu"
    assert loaded.net_.rng_.device.type == "cpu"
    assert_same_predictions(loaded, reference, X)
    # Training it further works (its CUDA random stream is gone: a new CPU one is seeded).
    loaded.set_params(warm_start=True, max_iter=4, device="cpu").fit(X)
    assert loaded.n_iter_ == 4


def test_generators_restore_on_the_same_device_type_only():
    generator = torch.Generator().manual_seed(5)
    torch.rand(3, generator=generator)
    restored, exact = restore_generator(generator_state(generator), "cpu")
    assert exact
    assert torch.equal(torch.rand(4, generator=restored), torch.rand(4, generator=generator))
    from_cuda = {**generator_state(generator), "device": "cuda:0"}
    restored, exact = restore_generator(from_cuda, "cpu")
    assert not exact and restored.initial_seed() == 5


def test_resuming_a_checkpoint_from_another_device_type_warns(tmp_path, monkeypatch):
    X = DATA["table"]
    VAE(**COMMON, checkpoint_dir=tmp_path).fit(X)
    checkpoint = torch.load(tmp_path / checkpoints.CHECKPOINT_FILE, weights_only=True)
    checkpoint["net"]["rng"]["device"] = "cuda"
    torch.save(checkpoint, tmp_path / checkpoints.CHECKPOINT_FILE)
    with pytest.warns(TrainingWarning, match="Resuming on cpu a fit that ran on cuda"):
        VAE(**{**COMMON, "max_iter": 5}, checkpoint_dir=tmp_path, warm_start=True).fit(X)


def _saved_by(version, model, monkeypatch):
    """The pickle ``model`` gives under another package version."""
    monkeypatch.setattr(persistence, "__version__", version)
    payload = pickle.dumps(model)
    monkeypatch.undo()
    return payload


def test_a_file_from_another_version_loads_with_a_warning(fitted, tmp_path, monkeypatch):
    model, X = fitted
    monkeypatch.setattr(persistence, "__version__", "0.0.1")
    joblib.dump(model, tmp_path / "old.joblib")
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning) as record:
        loaded = joblib.load(tmp_path / "old.joblib")
    [warning] = [w.message for w in record if isinstance(w.message, InconsistentVersionWarning)]
    assert (warning.estimator_name, warning.original_version, warning.current_version) == (
        type(model).__name__, "0.0.1", __version__)
    assert f"saved with disentangle 0.0.1; this is disentangle {__version__}" in str(warning)
    assert_same_predictions(loaded, model, X)
    # The warning pickles (it may travel back from a worker process).
    assert str(pickle.loads(pickle.dumps(warning))) == str(warning)


def test_a_pickle_without_version_loads_with_a_warning():
    state = VAE().__getstate__()
    del state["_disentangle_version"]
    with pytest.warns(InconsistentVersionWarning, match="saved with disentangle an unknown "):
        VAE.__new__(VAE).__setstate__(state)


def test_the_same_version_loads_without_a_warning(fitted, recwarn):
    pickle.loads(pickle.dumps(fitted[0]))
    assert not [w for w in recwarn if w.category is InconsistentVersionWarning]


def test_a_parameter_added_since_the_saving_version_takes_its_default(monkeypatch):
    model = VAE(**COMMON).fit(DATA["table"])
    state = model.__getstate__()
    del state["checkpoint_every"], state["warm_start"]  # as if the saving version had neither
    state["_disentangle_version"] = "0.0.1"
    loaded = VAE.__new__(VAE)
    with pytest.warns(InconsistentVersionWarning):
        loaded.__setstate__(state)
    assert loaded.get_params() == model.get_params()
    assert clone(loaded).get_params() == model.get_params()


def test_a_network_this_version_cannot_unpickle_gives_a_clear_error(monkeypatch):
    model = InfoGANCR(**COMMON).fit(DATA["table"])
    state = model.__getstate__()
    # As if the saving version had kept its networks in a module this version does not have
    # (same length: the pickle's framing stays valid).
    payload = state["_net_payload"].replace(b"disentangle.networks", b"disentangle.netwrkzz")
    assert payload != state["_net_payload"]
    state["_net_payload"], state["_net_sha256"] = payload, hashlib.sha256(payload).hexdigest()
    state["_disentangle_version"] = "0.0.1"
    with pytest.warns(InconsistentVersionWarning), pytest.raises(
            ValueError, match=r"saved with disentangle 0.0.1 and cannot be read by disentangle "
                              r".*its network does not unpickle here \(ModuleNotFoundError"):
        InfoGANCR.__new__(InfoGANCR).__setstate__(state)


def test_a_fitted_attribute_this_version_needs_is_missing_gives_a_clear_error():
    state = VAE(**COMMON).fit(DATA["table"]).__getstate__()
    del state["input_scale_"]
    with pytest.raises(ValueError, match="cannot be read by disentangle .*: it has no "
                                         "input_scale_. Load it with the version that saved it"):
        VAE.__new__(VAE).__setstate__(state)


def test_a_checkpoint_from_another_version_resumes_with_a_warning(tmp_path):
    X = DATA["table"]
    VAE(**COMMON, checkpoint_dir=tmp_path).fit(X)
    path = tmp_path / checkpoints.CHECKPOINT_FILE
    checkpoint = torch.load(path, weights_only=True)
    torch.save({**checkpoint, "version": "0.0.1"}, path)
    with pytest.warns(InconsistentVersionWarning, match="VAE training state was saved with "
                                                        "disentangle 0.0.1"):
        resumed = VAE(**{**COMMON, "max_iter": 5}, checkpoint_dir=tmp_path, warm_start=True).fit(X)
    whole = VAE(**{**COMMON, "max_iter": 5}).fit(X)
    np.testing.assert_array_equal(resumed.transform(X), whole.transform(X))
    # Another checkpoint layout, or a state that does not fit the networks: clear errors.
    torch.save({**checkpoint, "format": checkpoints.CHECKPOINT_FORMAT + 1}, path)
    with pytest.raises(ValueError, match="in checkpoint format 2; this is disentangle .*, which "
                                         "reads format 1: it cannot resume"):
        VAE(**COMMON, checkpoint_dir=tmp_path, warm_start=True).fit(X)
    modules = dict(checkpoint["net"]["modules"])
    modules["module"] = {k: v[..., :1] for k, v in modules["module"].items()}
    torch.save({**checkpoint, "net": {**checkpoint["net"], "modules": modules}}, path)
    with pytest.raises(ValueError, match=r"(?s)cannot be continued by disentangle .*RuntimeError.*"
                                         r"fit afresh \(warm_start=False\)"):
        VAE(**{**COMMON, "max_iter": 5}, checkpoint_dir=tmp_path, warm_start=True).fit(X)


def test_a_corrupted_file_gives_a_clear_error(tmp_path):
    model = InfoGANCR(**COMMON).fit(DATA["table"])
    data = bytearray(pickle.dumps(model))
    payload = model.__getstate__()["_net_payload"]
    start = bytes(data).index(payload[:64])
    data[start + len(payload) // 2] ^= 0xFF  # one flipped byte inside the network's bytes
    with pytest.raises(ValueError, match="file is corrupted: its network checksum does not match"):
        pickle.loads(bytes(data))
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # the network's bytes are most of the file
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="corrupted"):
        joblib.load(path)
