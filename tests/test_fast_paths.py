import pickle

import numpy as np
import pytest
import torch

from disentangle import VAE, InfoGANCR, _fast_paths
from disentangle._fast_paths import FastPath, check_fast_path, compile_options


@pytest.fixture(scope="module")
def images():
    rng = np.random.RandomState(0)
    return (rng.rand(64, 32, 32) > 0.8).astype(np.uint8)


def first_iteration(estimator, images, **params):
    """The fitted model and the losses of its first iteration (from the same seeded state)."""
    model = estimator.set_params(max_iter=1, batch_size=32, random_state=0, **params).fit(images)
    row = model.history_[-1, "batches", 0]
    return model, {name: value for name, value in row.items() if name != "train_batch_size"}


def aot_eager(monkeypatch):
    """torch.compile through dynamo and AOT autograd without inductor's C++ build (minutes on
    a CPU): the same graphs and the same arithmetic as eager."""
    options = _fast_paths.compile_options
    monkeypatch.setattr(_fast_paths, "compile_options", lambda names: (
        None if options(names) is None else {**options(names), "backend": "aot_eager"}))


@pytest.mark.parametrize("path, rtol", [
    ("channels_last", 1e-5),
    ("bf16", 3e-2),  # bf16 keeps 8 bits of mantissa
    (["bf16", "channels_last"], 3e-2),
    ("compile", 1e-5),
])
def test_infogan_cr_paths_give_the_default_losses(images, path, rtol, monkeypatch):
    aot_eager(monkeypatch)
    # cr_start=0: the first iteration has every step (H, D/Q, two G steps with the CR term).
    _, default = first_iteration(InfoGANCR(cr_start=0), images)
    model, fast = first_iteration(InfoGANCR(cr_start=0, fast_path=path), images)
    assert fast.keys() == default.keys()
    for name, value in default.items():
        assert fast[name] == pytest.approx(value, rel=rtol, abs=1e-6), name
    # The fitted model is plain again: eager modules, contiguous weights, picklable.
    for module in FastPath.modules(model.net_):
        assert module._compiled_call_impl is None
        assert all(p.is_contiguous() for p in module.parameters())
    assert pickle.loads(pickle.dumps(model)).transform(images[:3]).shape == (3, 5)


@pytest.mark.parametrize("objective", ["beta", "factor", "beta_tc"])
def test_vae_bf16_and_channels_last_give_the_default_losses(images, objective):
    _, default = first_iteration(VAE(objective=objective), images)
    _, fast = first_iteration(VAE(objective=objective, fast_path=["bf16", "channels_last"]),
                              images)
    for name, value in default.items():
        assert fast[name] == pytest.approx(value, rel=3e-2, abs=1e-3), name


def test_default_path_is_bit_exact_and_paths_change_the_arithmetic(images):
    _, default = first_iteration(InfoGANCR(cr_start=0), images)
    _, again = first_iteration(InfoGANCR(cr_start=0, fast_path=[]), images)
    _, bf16 = first_iteration(InfoGANCR(cr_start=0, fast_path="bf16"), images)
    assert again == default
    assert bf16 != default  # the autocast really ran in bf16


def test_fast_path_names_are_checked():
    cpu = torch.device("cpu")
    assert check_fast_path(None, cpu) == ()
    assert check_fast_path(["compile", "bf16", "bf16"], cpu) == ("bf16", "compile")
    assert check_fast_path("cuda_graphs", torch.device("cuda")) == ("cuda_graphs",)
    with pytest.raises(ValueError, match="unknown path"):
        check_fast_path("fp16", cpu)
    with pytest.raises(ValueError, match="choose one"):
        check_fast_path(["compile", "cuda_graphs"], torch.device("cuda"))
    with pytest.raises(ValueError, match="needs a CUDA device"):
        check_fast_path("cuda_graphs", cpu)


def test_cuda_graphs_on_cpu_is_rejected_before_training(images):
    model = InfoGANCR(max_iter=1, batch_size=32, device="cpu", fast_path="cuda_graphs")
    with pytest.raises(ValueError, match="needs a CUDA device"):
        model.fit(images)
    assert not hasattr(model, "net_")


def test_cuda_graphs_are_reduce_overhead_compile_and_each_iteration_is_a_new_step(monkeypatch):
    assert compile_options(("cuda_graphs",)) == {"mode": "reduce-overhead", "dynamic": False}
    assert compile_options(("bf16", "compile")) == {"dynamic": False}
    assert compile_options(("bf16", "channels_last")) is None
    steps = []
    monkeypatch.setattr(torch.compiler, "cudagraph_mark_step_begin", lambda: steps.append(1))
    fast = FastPath(("cuda_graphs",), torch.device("cuda"))
    for _ in range(3):
        with fast.iteration():
            pass
    assert len(steps) == 3
    with FastPath(("compile",), torch.device("cpu")).iteration():
        pass
    assert len(steps) == 3


def test_resuming_with_another_fast_path_is_allowed(images, tmp_path):
    model = InfoGANCR(max_iter=2, batch_size=32, random_state=0, checkpoint_dir=tmp_path)
    model.fit(images)
    model.set_params(max_iter=3, warm_start=True, fast_path="channels_last").fit(images)
    assert model.n_iter_ == 3


CPUINFO = "processor\t: {n}\nmodel name\t: test CPU\nflags\t\t: fpu sse2 avx2 {extra}\n\n"


@pytest.mark.parametrize("extra, bf16", [
    ("avx512f", False),  # AVX-512 without its BF16 extension: bf16 would be emulated
    ("avx512f avx512_bf16", True),
    ("amx_tile amx_bf16", True),
])
def test_cpu_flags_decide_native_bf16(tmp_path, monkeypatch, extra, bf16):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO.format(n=0, extra=extra) + CPUINFO.format(n=1, extra=extra))
    assert _fast_paths.cpu_flags(cpuinfo) >= {"avx2", *extra.split()}
    parsed = _fast_paths.cpu_flags(cpuinfo)
    monkeypatch.setattr(_fast_paths, "cpu_flags", lambda: parsed)
    cpu = torch.device("cpu")
    assert _fast_paths.native_bf16(cpu) is bf16
    expected = ("bf16", "channels_last") if bf16 else ("channels_last",)
    assert check_fast_path("auto", cpu) == expected
    assert check_fast_path("auto", cpu, images=False) == expected[:-1]


def test_unreadable_cpuinfo_assumes_no_flag(tmp_path):
    assert _fast_paths.cpu_flags(tmp_path / "missing") == frozenset()
    assert _fast_paths.native_bf16(torch.device("meta")) is False


@pytest.mark.parametrize("flags, expected", [
    (frozenset({"avx2"}), ("channels_last",)),
    (frozenset({"avx2", "avx512_bf16"}), ("bf16", "channels_last")),
])
def test_auto_is_recorded_in_the_fitted_estimator(images, monkeypatch, flags, expected):
    monkeypatch.setattr(_fast_paths, "cpu_flags", lambda: flags)
    model, _ = first_iteration(VAE(fast_path="auto"), images)
    assert model.fast_path_ == expected
    assert first_iteration(VAE(), images)[0].fast_path_ == ()


@pytest.fixture(scope="module")
def fitted(images):
    """An InfoGAN-CR and a VAE after two iterations, with inputs for transform and generate."""
    models = [InfoGANCR(n_codes=3, n_noise=2), VAE(n_latent=4)]
    return [model.set_params(max_iter=2, batch_size=32, random_state=0).fit(images)
            for model in models]


def forward_passes(model, images, path):
    model.set_params(inference_fast_path=path)
    return model.transform(images), model.generate(model.sample_latent(16, random_state=1))


@pytest.mark.parametrize("path, atol", [
    ("channels_last", 1e-5),  # float32 sums in another order
    ("bf16", 5e-2),  # an 8-bit mantissa: codes in [-1, 1] to about 1 %
    (["bf16", "channels_last"], 5e-2),
])
@pytest.mark.parametrize("index", [0, 1])
def test_inference_paths_give_the_default_outputs_in_float32(fitted, images, index, path, atol):
    model = fitted[index]
    reference = forward_passes(model, images, None)
    for fast, exact in zip(forward_passes(model, images, path), reference, strict=True):
        assert fast.dtype == np.float32 and fast.shape == exact.shape
        np.testing.assert_allclose(fast, exact, atol=atol)
    if "bf16" in path:  # autocast did run: bf16 rounding shows in the codes
        assert np.abs(forward_passes(model, images, path)[0] - reference[0]).max() > 1e-6
    assert all(np.array_equal(again, exact)  # back to the reference pass, bit for bit
               for again, exact in zip(forward_passes(model, images, None), reference, strict=True))


def test_channels_last_inference_converts_the_weights_once_and_back(fitted, images):
    model = fitted[0]
    convs = [p for m in FastPath.modules(model.net_) for p in m.parameters() if p.dim() == 4]
    forward_passes(model, images, "channels_last")
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in convs)
    kept = [p.data_ptr() for p in convs]
    forward_passes(model, images, "channels_last")  # already in that format: no copy
    assert [p.data_ptr() for p in convs] == kept
    forward_passes(model, images, None)
    assert all(p.is_contiguous() for p in convs)
    assert not any(p.is_inference() for p in convs)  # still trainable (warm_start)


def test_inference_fast_path_is_checked_at_fit_and_at_each_call(fitted, images):
    model = fitted[1]
    with pytest.raises(ValueError, match=r"inference_fast_path='compile'.*only speed up training"):
        forward_passes(model, images, "compile")
    with pytest.raises(ValueError, match="inference_fast_path='fp8': unknown path"):
        VAE(max_iter=1, batch_size=32, inference_fast_path="fp8").fit(images)
    model.set_params(inference_fast_path=None)


def test_inference_fast_path_survives_resume_and_pickling(images, tmp_path):
    model = VAE(max_iter=1, batch_size=32, random_state=0, checkpoint_dir=tmp_path).fit(images)
    model.set_params(max_iter=2, warm_start=True, inference_fast_path="channels_last").fit(images)
    assert model.n_iter_ == 2
    copy = pickle.loads(pickle.dumps(model))
    assert copy.inference_fast_path == "channels_last"
    np.testing.assert_array_equal(copy.transform(images), model.transform(images))


@pytest.mark.parametrize("flags, expected", [
    (frozenset({"avx2"}), ("channels_last",)),
    (frozenset({"avx2", "avx512_bf16"}), ("bf16", "channels_last")),
])
def test_auto_inference_takes_native_paths_only(monkeypatch, flags, expected):
    monkeypatch.setattr(_fast_paths, "cpu_flags", lambda: flags)
    cpu = torch.device("cpu")
    assert _fast_paths.check_inference_fast_path("auto", cpu) == expected
    assert _fast_paths.check_inference_fast_path("auto", cpu, images=False) == expected[:-1]
