"""Input validation (issue 6, part 1); input kinds: tables, 64x64, 32x32, flattened (part 2)."""

import pickle
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse
import torch
from torch.utils.data import TensorDataset

from disentangle import VAE, InfoGANCR
from disentangle._validation import InputDtypeError, uint8_scale, validate_input
from disentangle.datasets import GeneratedDataset
from disentangle.networks import (
    CRDiscriminator,
    DiscriminatorQ,
    Generator,
    MLPDecoder,
    MLPGenerator,
    VAEDecoder,
    VAEEncoder,
    build_generator,
    build_vae_decoder,
)
from disentangle.vae import LIKELIHOODS, gaussian_nll

TINY = dict(max_iter=2, batch_size=8, random_state=0, device="cpu")



@pytest.fixture(scope="module")
def table():
    return np.random.RandomState(0).randn(40, 4)


@pytest.fixture(scope="module")
def images():
    return (np.random.RandomState(0).rand(24, 64, 64) > 0.8).astype(np.uint8)


@pytest.fixture(scope="module")
def table_model(table):
    return InfoGANCR(**TINY).fit(table)


@pytest.fixture(scope="module")
def image_model(images):
    return InfoGANCR(**TINY).fit(images)


# --- Bad input at fit: one test per problem, the error type and a message naming it ---------


def _object_array_with_a_dict():
    X = np.random.RandomState(0).rand(10, 3).astype(object)
    X[0, 0] = {"a": 1}
    return X


BAD_FIT_INPUT = {
    "nan": (np.full((10, 3), np.nan), ValueError, "NaN"),
    "inf": (np.full((10, 3), np.inf), ValueError, "infinity"),
    "nan-images": (np.full((4, 64, 64), np.nan), ValueError, "NaN"),
    "empty-table": (np.zeros((0, 3)), ValueError, "at least one sample"),
    "empty-images": (np.zeros((0, 64, 64), np.uint8), ValueError, "at least one image"),
    "no-features": (np.zeros((10, 0)), ValueError, "0 feature"),
    "one-sample": (np.zeros((1, 3)), ValueError, "1 sample.*minimum of 2"),
    "complex": (np.ones((10, 3), complex), ValueError, "Complex data not supported"),
    "sparse": (scipy.sparse.random(10, 3, density=0.5, format="csr"), ValueError,
               "Sparse input is not supported"),
    "1-D": (np.zeros(10), ValueError, "Expected 2D array"),
    "5-D": (np.zeros((4, 1, 1, 64, 64), np.uint8), ValueError, "shape"),
    "strings": (np.array([["a", "b"]] * 10), ValueError, "strings"),
    "object-strings": (np.array([["a", "b"]] * 10, dtype=object), ValueError,
                       "could not convert string to float"),
    "object-dict": (_object_array_with_a_dict(), InputDtypeError, "could not be read as numbers"),
    "int-images": (np.zeros((4, 64, 64), np.int32), ValueError, "dtype bool, uint8 or float"),
    "float-images-out-of-range": (np.full((4, 64, 64), 2.0), ValueError,
                                  r"must have values in \[0, 1\]; got values from 2.0 to 2.0"),
    "image-size": (np.zeros((4, 48, 48), np.uint8), ValueError, "supported sizes: 32x32, 64x64"),
    "non-square": (np.zeros((4, 64, 32), np.uint8), ValueError, "64x32 are not supported"),
    "ragged-object-array": (np.array([np.zeros((64, 64)), np.zeros((32, 32))], dtype=object),
                            ValueError, r"object array .* shapes \[\(32, 32\), \(64, 64\)\]"),
    "ragged-list": ([np.zeros((64, 64)), np.zeros((32, 32))], ValueError, "X is ragged"),
}


@pytest.mark.parametrize("bad, error, message", BAD_FIT_INPUT.values(), ids=BAD_FIT_INPUT)
def test_bad_input_at_fit_raises_clear_errors(bad, error, message):
    with pytest.raises(error, match=message):
        InfoGANCR(**TINY).fit(bad)


def test_non_numeric_objects_are_a_value_error_and_a_type_error():
    # A ValueError as the rest of this validation, a TypeError as NumPy's own
    # conversion error (scikit-learn's check_dtype_object expects that).
    with pytest.raises(ValueError) as info:
        VAE(**TINY).fit(_object_array_with_a_dict())
    assert isinstance(info.value, TypeError)
    assert "float() argument must be a string or a real number, not 'dict'" in str(info.value)


@pytest.mark.parametrize(
    "params, X, message",
    [
        ({"image_shape": (64, 64)}, np.zeros((4, 100), np.uint8), "needs rows of 4096 pixels"),
        ({"image_shape": (1, 32, 32)}, np.zeros((4, 64, 64), np.uint8), "do not match"),
        ({"image_shape": (2, 3, 4, 5)}, np.zeros((4, 120), np.uint8), "must be \\(H, W\\)"),
        ({"image_shape": (3, 48)}, np.zeros((4, 144), np.uint8), "3x48 are not supported"),
    ],
)
def test_bad_image_shape_parameter(params, X, message):
    with pytest.raises(ValueError, match=message):
        VAE(**TINY, **params).fit(X)


def test_vae_needs_two_samples_only_for_the_batch_objectives():
    one = np.zeros((1, 3))
    assert VAE(**TINY).fit(one).n_iter_ == 2
    with pytest.raises(ValueError, match="1 sample"):
        VAE(objective="factor", **TINY).fit(one)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"batch_size": 1}, "'batch_size' parameter of InfoGANCR must be an int in the range"),
        ({"max_iter": 0}, "'max_iter' parameter"),
        ({"gap": 2.0}, "'gap' parameter"),
        ({"cr_start": 1.5}, "'cr_start' parameter"),
        ({"checkpoint_every": 0}, "'checkpoint_every' parameter"),
        # A zero is out of range, not a bool: the message must not read as if it were one.
        ({"n_codes": 0}, r"'n_codes' parameter of InfoGANCR must be an int in the range "
                         r"\[1, inf\) \(True and False are not accepted\)\. Got 0 instead"),
    ],
)
def test_bad_parameters_raise_clear_errors(table, params, message):
    with pytest.raises(ValueError, match=message):
        InfoGANCR(**{**TINY, **params}).fit(table)


@pytest.mark.parametrize(
    "Estimator, name", [(InfoGANCR, "max_iter"), (InfoGANCR, "n_codes"), (VAE, "max_iter"),
                        (VAE, "n_latent"), (VAE, "checkpoint_every")],
)
def test_a_bool_for_an_integer_parameter_is_rejected(table, Estimator, name):
    # scikit-learn's Interval(Integral, ...) accepts True (a bool is an int).
    with pytest.raises(ValueError, match=rf"'{name}' parameter of {Estimator.__name__} must be "
                                         r"an int in the range \[1, inf\) \(True and False are not "
                                         r"accepted\). Got True"):
        Estimator(**{**TINY, name: True}).fit(table)


def test_a_checkpoint_dir_that_is_a_file_is_named(tmp_path, table):
    path = tmp_path / "model.joblib"
    path.write_bytes(b"")
    for checkpoint_dir in (path, path / "sub"):
        with pytest.raises(ValueError, match="'checkpoint_dir' parameter of VAE must be a "
                           "directory path, existing or to create \\(not a file, nor inside one"):
            VAE(**TINY, checkpoint_dir=checkpoint_dir).fit(table)


@pytest.mark.parametrize("Estimator", [InfoGANCR, VAE])
def test_a_batch_larger_than_the_data_warns_and_uses_all_of_it(Estimator, table):
    with pytest.warns(UserWarning, match="batch_size=64 is larger than the 40 training samples"):
        model = Estimator(max_iter=1, batch_size=64, random_state=0).fit(table)
    assert model.n_iter_ == 1


# --- Bad input at transform: says what it expected -------------------------------------------


def test_transform_table_of_other_width(table_model):
    with pytest.raises(ValueError, match="X has 3 features, but InfoGANCR is expecting 4"):
        table_model.transform(np.zeros((2, 3)))


def test_transform_images_on_a_table_model(table_model):
    with pytest.raises(ValueError, match=r"fitted on a table of 4 features; expected .*\(n, 4\)"):
        table_model.transform(np.zeros((2, 2, 2)))


@pytest.mark.parametrize(
    "bad", [np.zeros((2, 3, 64, 64), np.uint8), np.zeros((2, 32, 32), np.uint8)],
    ids=["channels", "size"],
)
def test_transform_images_of_other_shape(image_model, bad):
    with pytest.raises(ValueError, match=r"images of shape \(n, 1, 64, 64\) as seen at fit"):
        image_model.transform(bad)


def test_transform_one_image_without_the_batch_axis(images, image_model):
    with pytest.raises(ValueError, match=r"Expected a batch of images \(n, 1, 64, 64\); got one "
                                         r"image of shape \(64, 64\): pass X\[None\]"):
        image_model.transform(images[0])
    assert image_model.transform(images[0][None]).shape == (1, 5)  # (1, 64, 64): one image


def test_transform_ragged_object_array(image_model):
    ragged = np.array([np.zeros((64, 64)), np.zeros((32, 32))], dtype=object)
    with pytest.raises(ValueError, match="object array of shape \\(2,\\) holding arrays"):
        image_model.transform(ragged)


def test_latents_far_outside_the_prior_warn(table_model):
    latents = table_model.sample_latent(4, random_state=0)
    with warnings.catch_warnings():  # prior draws and values up to twice their range: silent
        warnings.simplefilter("error")
        table_model.generate(np.clip(2 * latents, -1.9, 1.9))
    latents[1, 2] = 5.0  # InfoGAN-CR's prior is U(-1, 1)
    with pytest.warns(UserWarning, match=r"latents far outside the prior: columns \[2\] hold "
                                         r"values up to 5"):
        table_model.generate(latents)
    dataset = GeneratedDataset(table_model)
    with pytest.warns(UserWarning, match=r"far outside the prior: columns \[0, 1, 2, 3, 4\]"):
        dataset.sample_observations_from_factors(np.full((2, 5), -3.0), random_state=0)


def test_transform_flattened_images_of_other_length(image_model):
    with pytest.raises(ValueError, match="X has 100 features, but InfoGANCR is expecting 4096"):
        image_model.transform(np.zeros((2, 100), np.uint8))


def test_float_pixels_just_above_one_are_printed_exactly_with_what_to_do(images):
    # Issue 29: "must have values in [0, 1]; got values in [7.24496e-05, 1]" contradicted itself.
    X = images.astype(np.float32)
    X[0, 0, 0] = np.nextafter(np.float32(1), np.float32(2))
    with pytest.raises(ValueError, match=r"got values from 0\.0 to 1\.0000001\. Pass "
                       r"np\.clip\(X, 0, 1\) .* or X / 255"):
        InfoGANCR(**TINY).fit(X)


def test_a_tensor_dataset_is_read_as_its_samples_another_dataset_is_named(images):
    # Issue 29: a TensorDataset gave "got an array of shape (64, 1, 1, 32, 32)".
    tensors = torch.from_numpy(images[:, None])
    from_dataset = InfoGANCR(**TINY).fit(TensorDataset(tensors, torch.zeros(len(images))))
    from_array = InfoGANCR(**TINY).fit(images)
    np.testing.assert_array_equal(from_dataset.transform(TensorDataset(tensors)),
                                  from_array.transform(images))

    class Images(torch.utils.data.Dataset):
        def __len__(self):
            return len(images)

        def __getitem__(self, index):
            return tensors[index]

    with pytest.raises(ValueError, match=r"X is a torch Images; pass its samples as one array "
                       r"or tensor .*torch\.stack"):
        InfoGANCR(**TINY).fit(Images())


def test_transform_checks_the_pixel_scale_seen_at_fit(images, image_model):
    with pytest.raises(ValueError, match=r"fitted on images with values in \[0, 1\]; got uint8"):
        image_model.transform(images[:2] * 255)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        image_model.transform(np.full((2, 64, 64), 1.5))
    model_255 = InfoGANCR(**TINY).fit(images * 255)
    with pytest.warns(UserWarning, match="fitted on uint8 images with values 0..255"):
        model_255.transform(images[:2])
    with warnings.catch_warnings():  # bool and float images are read in [0, 1]: no warning
        warnings.simplefilter("error")
        np.testing.assert_allclose(model_255.transform(images[:2].astype(bool)),
                                   model_255.transform(images[:2] * 255), atol=1e-6)
        np.testing.assert_allclose(model_255.transform(images[:2].astype(np.float32)),
                                   model_255.transform(images[:2] * 255), atol=1e-6)


def test_uint8_scale_comes_from_a_sample_of_images_and_every_batch_is_checked():
    # Only evenly spaced images decide the scale, so that no worker of a parallel search reads
    # a whole memory-mapped dataset (issue 29: each reached 3.29 GiB on dSprites' 2.81 GiB); a
    # 0..255 image that the sample missed is refused when its batch comes.
    images = np.zeros((200, 32, 32), np.uint8)
    images[:, 8:24, 8:24] = 1
    sampled = np.unique(np.linspace(0, 199, 64).astype(int))
    assert 1 not in sampled
    mixed = images.copy()
    mixed[1] *= 255
    assert uint8_scale(mixed) == 1.0 and uint8_scale(mixed[sampled] * 255) == 1 / 255
    one_batch = dict(max_iter=1, batch_size=200, random_state=0, device="cpu")
    with pytest.raises(ValueError, match="0..1 scale .* hold a pixel value of 255 in this batch"):
        InfoGANCR(**one_batch).fit(mixed)
    model = InfoGANCR(**one_batch).fit(images)
    with pytest.raises(ValueError, match="hold a pixel value of 255 in this batch"):
        model.transform(mixed)


@pytest.mark.parametrize("bad", [np.nan, 2.0])
def test_float_memmap_images_are_checked_on_a_sample_then_batch_by_batch(tmp_path, bad):
    # The sibling of the uint8 scale: min, max and the finite check read a whole float memmap.
    images = np.zeros((200, 32, 32), np.float32)
    images[:, 8:24, 8:24] = 0.5
    images[1, 0, 0] = bad  # row 1 is not among the 64 evenly spaced rows checked up front
    np.save(tmp_path / "images.npy", images)
    mapped = np.load(tmp_path / "images.npy", mmap_mode="r")
    assert validate_input(InfoGANCR(), mapped, reset=True).shape == (200, 1, 32, 32)
    message = "must be finite" if np.isnan(bad) else r"values from 0\.0 to 2\.0"
    with pytest.raises(ValueError, match=message):
        InfoGANCR(max_iter=1, batch_size=200, random_state=0, device="cpu").fit(mapped)
    # In memory: refused up front, as before (scikit-learn names the NaN).
    with pytest.raises(ValueError, match="contains NaN" if np.isnan(bad) else message):
        validate_input(InfoGANCR(), images, reset=True)


def test_a_uint8_table_is_not_read_as_pixels():
    table = np.random.RandomState(0).randint(0, 6, (40, 4)).astype(np.uint8)
    model = InfoGANCR(**TINY).fit(table)
    assert model.transform(table).shape == (40, model.n_codes_)


@pytest.mark.parametrize("bad, message", [(np.full((2, 4), np.nan), "NaN"),
                                          (np.zeros(4), "Expected 2D array"),
                                          (np.zeros((0, 4)), "at least one sample")])
def test_transform_bad_values(table_model, bad, message):
    with pytest.raises(ValueError, match=message):
        table_model.transform(bad)


# --- Images are never copied to float ---------------------------------------------------------


@pytest.mark.parametrize(
    "layout", ["(n, H, W)", "(n, C, H, W)", "flattened", "bool", "memmap"],
)
def test_validation_returns_a_view_of_the_images(tmp_path, images, layout):
    X, params = images, {}
    if layout == "(n, C, H, W)":
        X = images[:, None]
    elif layout == "flattened":
        X, params = images.reshape(len(images), -1), {"image_shape": (64, 64)}
    elif layout == "bool":
        X = images.astype(bool)
    elif layout == "memmap":
        X = np.memmap(tmp_path / "x.dat", np.uint8, "w+", shape=images.shape)
        X[:] = images
        X.flush()
        X = np.memmap(tmp_path / "x.dat", np.uint8, "r", shape=images.shape)
    validated = validate_input(InfoGANCR(**params), X, reset=True)
    assert validated.shape == (len(images), 1, 64, 64) and validated.dtype == np.uint8
    assert np.shares_memory(validated, X)


def test_fit_and_transform_never_copy_uint8_images_to_float():
    images = np.zeros((2048, 64, 64), np.uint8)  # 8 MiB; a float32 copy would be 32 MiB
    images[:, 20:40, 20:40] = 1
    model = InfoGANCR(max_iter=1, batch_size=4, random_state=0, device="cpu")
    tracemalloc.start()
    try:
        model.fit(images)
        model.transform(images)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < images.nbytes, f"peak {peak / 2**20:.1f} MiB"


# --- Input kinds: tables, 64x64, 32x32, flattened --------------------------------------------


def test_a_2d_array_is_a_table_with_fully_connected_networks(table):
    gan = InfoGANCR(**TINY).fit(table)
    assert gan.input_shape_ == (4,) and gan.image_shape_ is None and gan.n_features_in_ == 4
    assert isinstance(gan.net_.module_, MLPGenerator)
    assert gan.transform(table).shape == (40, 5)
    samples = gan.sample(100, random_state=0)
    assert samples.shape == (100, 4) and samples.dtype == np.float32
    vae = VAE(objective="factor", **TINY).fit(table)
    assert isinstance(vae.net_.module_, MLPDecoder)
    assert vae.net_.likelihood is LIKELIHOODS["table"]
    assert vae.transform(table).shape == (40, 10) and vae.sample(3).shape == (3, 4)


def test_table_generator_outputs_unbounded_features():
    generator = MLPGenerator(10, 4).eval()
    with torch.no_grad():
        generator.fc[-1].bias.fill_(5.0)
        assert torch.allclose(generator(torch.zeros(3, 10)), torch.tensor(5.0), atol=0.5)
        generator.fc[-1].bias.fill_(-5.0)
        assert generator(torch.zeros(3, 10)).max() < -4  # no squashing into [0, 1]


def test_tables_of_any_numeric_dtype_and_dataframes(table):
    pd = pytest.importorskip("pandas")
    reference = VAE(**TINY).fit(table.astype(np.float32)).transform(table[:5])
    for variant in (table.astype(np.float32), table.astype(np.float16), (table * 10).astype(int)):
        assert VAE(**TINY).fit(variant).transform(variant[:5]).dtype == np.float32
    frame = pd.DataFrame(table.astype(np.float32), columns=list("abcd"))
    model = VAE(**TINY).fit(frame)
    assert list(model.feature_names_in_) == list("abcd")
    np.testing.assert_array_equal(model.transform(frame.iloc[:5]), reference)


def test_gaussian_likelihood_of_the_table_vae():
    gen = torch.Generator().manual_seed(0)
    means, x = torch.randn(6, 3, generator=gen), torch.randn(6, 3, generator=gen)
    expected = -torch.distributions.Normal(means, 1.0).log_prob(x).sum(1).mean()
    assert float(gaussian_nll(means, x)) == pytest.approx(float(expected), rel=1e-6)


def test_table_vae_learns():
    rng = np.random.RandomState(0)
    factors = rng.randn(256, 2)
    X = factors @ rng.randn(2, 6) + 0.1 * rng.randn(256, 6)
    model = VAE(lr=3e-3, batch_size=32, max_iter=150, random_state=0, device="cpu").fit(X)
    losses = np.concatenate([np.asarray(p) for p in model.history_[:, "batches", :, "train_loss"]])
    losses -= 3 * np.log(2 * np.pi)  # the constant of the unit-variance Gaussian, 6 features
    assert losses[-10:].mean() < 0.6 * losses[:10].mean()
    reconstruction = model.generate(model.transform(X))
    assert np.mean((reconstruction - X) ** 2) < 0.5 * X.var(0).sum() / 6


@pytest.mark.parametrize("Estimator", [InfoGANCR, VAE])
@pytest.mark.parametrize("shape", [(32, 32), (3, 32, 32), (3, 64, 64)])
def test_32x32_and_colour_images(Estimator, shape):
    X = (np.random.RandomState(0).rand(16, *shape) > 0.7).astype(np.uint8)
    model = Estimator(**TINY).fit(X)
    chw = shape if len(shape) == 3 else (1, *shape)
    assert model.image_shape_ == chw and model.n_features_in_ == int(np.prod(chw))
    samples = model.sample(3, random_state=0)
    assert samples.shape == (3, *chw) and 0 <= samples.min() and samples.max() <= 1
    assert model.transform(X[:3]).shape == (3, model.n_codes_)


@pytest.mark.parametrize("Estimator", [InfoGANCR, VAE])
def test_flattened_images_with_image_shape_are_images(Estimator, images):
    flat = images.reshape(len(images), -1)
    reference = Estimator(**TINY).fit(images)
    model = Estimator(**TINY, image_shape=(64, 64)).fit(flat)
    assert model.image_shape_ == (1, 64, 64) and model.n_features_in_ == 4096
    np.testing.assert_array_equal(model.transform(flat[:5]), reference.transform(images[:5]))
    np.testing.assert_array_equal(model.transform(images[:5]), reference.transform(images[:5]))
    assert model.sample(2).shape == (2, 1, 64, 64)
    # An image model also reads flattened rows without image_shape.
    np.testing.assert_array_equal(reference.transform(flat[:5]), reference.transform(images[:5]))


@pytest.mark.parametrize("shape", [(1, 64, 64), (3, 32, 32), (7,)], ids=["64", "32", "table"])
def test_every_role_maps_the_shapes(shape):
    x = torch.rand(5, *shape)
    generator = build_generator(10, shape)
    assert isinstance(generator, MLPGenerator if len(shape) == 1 else Generator)
    assert generator(torch.rand(5, 10)).shape == (5, *shape)
    d_logit, q_codes = DiscriminatorQ(4, shape)(x)
    assert d_logit.shape == (5,) and q_codes.shape == (5, 4)
    assert CRDiscriminator(4, shape)(torch.cat([x, x], dim=1)).shape == (5, 4)
    mean, logvar = VAEEncoder(6, shape)(x)
    assert mean.shape == logvar.shape == (5, 6)
    decoder = build_vae_decoder(6, shape)
    assert isinstance(decoder, MLPDecoder if len(shape) == 1 else VAEDecoder)
    assert decoder(torch.rand(5, 6)).shape == (5, *shape)


def test_32x32_networks_drop_one_stride_2_stage():
    def strided(module):
        return sum(isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))
                   for m in module.modules())

    for builder in (lambda s: DiscriminatorQ(5, s), lambda s: build_generator(10, s),
                    lambda s: VAEEncoder(10, s), lambda s: build_vae_decoder(10, s)):
        assert strided(builder((1, 64, 64))) == 4 and strided(builder((1, 32, 32))) == 3


def test_cuda_device_without_a_gpu_names_the_fix(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU here.*device='cpu' or 'auto'"):
        VAE(max_iter=1, device="cuda").fit(np.random.RandomState(0).randn(10, 3))


def test_negative_sample_count_is_named():
    model = VAE(max_iter=1, batch_size=4).fit(np.random.RandomState(0).randn(10, 3))
    with pytest.raises(ValueError, match="n_samples must be an integer >= 0; got -1"):
        model.sample(-1)


def test_channels_last_images_get_a_hint():
    with pytest.raises(ValueError, match=r"channels-first, \(n, C, H, W\)"):
        VAE(max_iter=1).fit(np.zeros((4, 64, 64, 1), np.uint8))


@pytest.mark.parametrize("betas", [(0.5, 0.9, 0.99), ("a", "b"), (1.0, 2.0)])
@pytest.mark.parametrize("name", ["betas", "betas_discriminator"])
def test_adam_betas_are_checked_by_name(name, betas):
    with pytest.raises(ValueError,
                       match=rf"'{name}' parameter of VAE must be two numbers in \[0, 1\) \(Adam"):
        VAE(objective="factor", max_iter=1, **{name: betas}).fit(np.zeros((8, 3)))


@pytest.mark.parametrize("callbacks", [[42], [("finite_losses", "x")], ["progress"]])
def test_callbacks_entries_are_checked(callbacks):
    with pytest.raises(ValueError,
                       match="'callbacks' parameter of InfoGANCR must be a list of skorch"):
        InfoGANCR(max_iter=1, callbacks=callbacks).fit(np.zeros((8, 3)))


def test_unknown_device_names_and_bool_counts_are_rejected(table):
    with pytest.raises(ValueError, match="device='tpu' is not a torch device"):
        VAE(max_iter=1, device="tpu").fit(table)
    model = VAE(max_iter=1, random_state=0).fit(table)
    with pytest.raises(ValueError, match="n_samples must be an integer >= 0; got True"):
        model.sample(True)
    with pytest.raises(TypeError, match="positional"):
        InfoGANCR(3)


def test_a_npy_path_is_opened_memory_mapped_and_fits_as_the_array(tmp_path):
    images = (np.random.RandomState(0).rand(16, 32, 32) > 0.5)
    path = tmp_path / "images.npy"
    np.save(path, images)
    params = dict(max_iter=2, batch_size=8, device="cpu", random_state=0)
    from_path = VAE(**params).fit(path)
    from_array = VAE(**params).fit(images)
    np.testing.assert_array_equal(from_path.transform(str(path)), from_array.transform(images))
    assert len(pickle.dumps(str(path))) < 200  # what travels to a worker
    with pytest.raises(ValueError, match="is a path, but not a readable .npy file"):
        VAE(**params).fit(tmp_path / "missing.npy")


@pytest.mark.parametrize("Estimator", [InfoGANCR, VAE])
def test_skip_parameter_validation_is_honoured(Estimator, table):
    """scikit-learn's global switch turns the parameter checks off (``@_fit_context``)."""
    from sklearn import config_context
    from sklearn.utils._param_validation import InvalidParameterError

    # A tuple of callbacks and numpy betas: not the documented types, but they train.
    params = dict(TINY, callbacks=(), betas=np.array([0.5, 0.9]))
    with pytest.raises(InvalidParameterError, match="'betas' parameter"):
        Estimator(**params).fit(table)
    with config_context(skip_parameter_validation=True):
        assert Estimator(**params).fit(table).n_iter_ == TINY["max_iter"]


def test_warnings_from_fit_point_at_the_caller(table):
    with pytest.warns(UserWarning, match="larger than the") as record:
        VAE(**{**TINY, "batch_size": 1000}).fit(table)
    assert record[0].filename == __file__
