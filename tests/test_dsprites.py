"""Tests of the dSprites dataset: factor grid, rendering, caching and the npz loader."""

import os
import pickle
import zipfile

import numpy as np
import pytest

from disentangle.datasets import DSprites, GroundTruthDataset
from disentangle.datasets._dsprites import OFFICIAL_FILE_NAME

N_OFFICIAL = 737280


class TinyDSprites(DSprites):
    """dSprites on a small grid, so that whole-set paths run in milliseconds."""

    factor_sizes = (3, 2, 3, 4, 4)


@pytest.fixture(scope="module")
def data():
    return DSprites()


def grid(shape=range(3), scale=range(6), orientation=range(40), pos_x=(16,), pos_y=(16,)):
    axes = np.meshgrid(shape, scale, orientation, pos_x, pos_y, indexing="ij")
    return np.stack(axes, axis=-1).reshape(-1, 5).astype(np.int64)


def images(data, factors):
    return data.sample_observations_from_factors(factors)[:, 0]


def centroids(imgs):
    """Row and column centroids of (n, 64, 64) images."""
    area = imgs.sum(axis=(1, 2))
    index = np.arange(imgs.shape[-1])
    rows = (imgs.sum(axis=2) * index).sum(axis=1) / area
    cols = (imgs.sum(axis=1) * index).sum(axis=1) / area
    return rows, cols


# --- factor grid -------------------------------------------------------------


def test_factor_grid(data):
    assert isinstance(data, GroundTruthDataset)
    assert data.factor_names == ("shape", "scale", "orientation", "pos_x", "pos_y")
    assert data.factor_sizes == (3, 6, 40, 32, 32)
    assert data.n_factors == 5
    assert data.observation_shape == (1, 64, 64)
    assert len(data) == N_OFFICIAL
    assert data.shape_names == ("square", "ellipse", "heart")
    assert data.source == "procedural"


def test_factor_values_are_the_official_latent_values(data):
    shape, scale, orientation, pos_x, pos_y = data.factor_values
    np.testing.assert_array_equal(shape, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(scale, [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert orientation.shape == (40,)
    assert orientation[0] == 0.0
    np.testing.assert_allclose(orientation[1], 0.16110732, atol=1e-8)
    np.testing.assert_allclose(orientation[-1], 2 * np.pi)
    for pos in (pos_x, pos_y):
        np.testing.assert_allclose(pos, np.linspace(0, 1, 32))
        np.testing.assert_allclose(pos[1], 0.03225806, atol=1e-8)


def test_sample_factors_in_range(data):
    factors = data.sample_factors(1000, random_state=0)
    assert factors.shape == (1000, 5) and factors.dtype == np.int64
    assert np.all(factors >= 0)
    assert np.all(factors < np.array(data.factor_sizes))


def test_index_is_mixed_radix_with_pos_y_fastest(data):
    index = data.index_from_factors([[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 0]])
    np.testing.assert_array_equal(index, [0, 1, 32])
    assert data.index_from_factors([[2, 5, 39, 31, 31]])[0] == N_OFFICIAL - 1
    rng = np.random.RandomState(0)
    index = rng.randint(N_OFFICIAL, size=500)
    np.testing.assert_array_equal(data.index_from_factors(data.factors_from_index(index)), index)


def test_latents_classes_and_values(data):
    classes = data.latents_classes
    assert classes.shape == (N_OFFICIAL, 5) and classes.dtype == np.int64
    np.testing.assert_array_equal(classes[33], [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(classes[-1], [2, 5, 39, 31, 31])
    values = data.latents_values
    np.testing.assert_allclose(values[-1], [3.0, 1.0, 2 * np.pi, 1.0, 1.0])


# --- observations ------------------------------------------------------------


def test_observations_are_binary_float32(data):
    factors = data.sample_factors(64, random_state=1)
    obs = data.sample_observations_from_factors(factors)
    assert obs.shape == (64, 1, 64, 64)
    assert obs.dtype == np.float32
    assert set(np.unique(obs)) <= {0.0, 1.0}
    assert np.all(obs.sum(axis=(1, 2, 3)) > 0)


def test_empty_batch(data):
    obs = data.sample_observations_from_factors(np.zeros((0, 5), dtype=np.int64))
    assert obs.shape == (0, 1, 64, 64) and obs.dtype == np.float32


def test_same_factors_same_images(data):
    factors = data.sample_factors(32, random_state=2)
    first = data.sample_observations_from_factors(factors, random_state=0)
    again = DSprites().sample_observations_from_factors(factors, random_state=1)
    np.testing.assert_array_equal(first, again)
    _, sampled = data.sample(32, random_state=2)
    np.testing.assert_array_equal(sampled, first)


@pytest.mark.parametrize("shape", range(3))
def test_pos_x_moves_the_column_centroid(data, shape):
    imgs = images(data, grid([shape], [3], [5], range(32), [10]))
    rows, cols = centroids(imgs)
    assert np.all(np.diff(cols) > 0.5)
    np.testing.assert_allclose(rows, rows[0])
    assert cols[-1] - cols[0] > 25


@pytest.mark.parametrize("shape", range(3))
def test_pos_y_moves_the_row_centroid(data, shape):
    imgs = images(data, grid([shape], [3], [5], [20], range(32)))
    rows, cols = centroids(imgs)
    assert np.all(np.diff(rows) > 0.5)
    np.testing.assert_allclose(cols, cols[0])
    assert rows[-1] - rows[0] > 25


def test_scale_increases_the_area(data):
    area = images(data, grid()).sum(axis=(1, 2)).reshape(3, 6, 40)
    assert np.all(np.diff(area, axis=1) > 0)
    # Area grows like scale squared (within rasterisation error).
    ratio = area[:, -1].mean(axis=1) / area[:, 0].mean(axis=1)
    np.testing.assert_allclose(ratio, 4.0, rtol=0.1)


def test_rotation_keeps_the_area(data):
    area = images(data, grid()).sum(axis=(1, 2)).reshape(3, 6, 40).astype(float)
    deviation = np.abs(area / np.median(area, axis=2, keepdims=True) - 1)
    assert deviation[:, 3:].max() < 0.05  # scales 0.8 to 1
    assert deviation.max() < 0.1  # small sprites suffer more from rasterisation


def test_rotation_is_about_the_centre(data):
    # Square and ellipse are symmetric about their centre: rotating them keeps
    # the centroid at the position's pixel centre.
    rows, cols = centroids(images(data, grid([0, 1], [5], range(40), [7], [24])))
    np.testing.assert_allclose(rows, rows[0], atol=1e-9)
    np.testing.assert_allclose(cols, cols[0], atol=1e-9)


def test_rotation_changes_the_image(data):
    imgs = images(data, grid([2], [5], range(40)))
    assert len({img.tobytes() for img in imgs[:-1]}) == 39


def test_first_and_last_orientation_coincide(data):
    # linspace(0, 2 pi, 40) repeats the angle 0 (deepmind/dsprites-dataset issue 7).
    imgs = images(data, grid(orientation=[0, 39])).reshape(18, 2, 64, 64)
    np.testing.assert_array_equal(imgs[:, 0], imgs[:, 1])


def test_the_three_shapes_differ(data):
    imgs = images(data, grid(range(3), [5], [0]))
    assert len({img.tobytes() for img in imgs}) == 3
    area = imgs.sum(axis=(1, 2))
    assert area[0] > area[1] and area[0] > area[2]  # the square fills its box


def test_square_is_axis_aligned_at_orientation_zero(data):
    img = images(data, grid([0], [5], [0]))[0]
    rows, cols = np.nonzero(img)
    height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
    assert height == width
    assert img.sum() == height * width


def test_ellipse_is_longer_than_wide(data):
    img = images(data, grid([1], [5], [0]))[0]
    rows, cols = np.nonzero(img)
    assert np.ptp(cols) > 1.8 * np.ptp(rows)


def test_sprites_stay_inside_the_canvas(data):
    # Same area in a corner as in the middle: nothing is clipped.
    middle = images(data, grid(pos_x=[16], pos_y=[16])).sum(axis=(1, 2))
    for corner in ([0], [31]):
        imgs = images(data, grid(pos_x=corner, pos_y=corner))
        np.testing.assert_array_equal(imgs.sum(axis=(1, 2)), middle)


def test_mean_pixel_value_matches_the_official_set(data):
    # Without clipping the mean over the whole set is the mean over all sprites.
    imgs = images(data, grid())
    assert abs(imgs.mean() - 0.042494) < 0.001


# --- validation of factors ---------------------------------------------------


@pytest.mark.parametrize(
    "factors, match",
    [
        (np.zeros(5, dtype=np.int64), r"shape \(n, 5\)"),
        (np.zeros((2, 4), dtype=np.int64), r"shape \(n, 5\)"),
        (np.zeros((2, 5)), "integers"),
        ([[0, 0, 0, 0, 32]], r"factor 4 \(pos_y\) must lie in \[0, 32\)"),
        ([[3, 0, 0, 0, 0]], r"factor 0 \(shape\)"),
        ([[0, -1, 0, 0, 0]], r"factor 1 \(scale\)"),
        ([[0, 0, 40, 0, 0]], r"factor 2 \(orientation\)"),
    ],
)
def test_invalid_factors_raise(data, factors, match):
    with pytest.raises(ValueError, match=match):
        data.sample_observations_from_factors(factors)
    with pytest.raises(ValueError, match=match):
        data.index_from_factors(factors)


def test_invalid_index_raises(data):
    with pytest.raises(ValueError, match="index"):
        data.factors_from_index([N_OFFICIAL])
    with pytest.raises(ValueError, match="index"):
        data.factors_from_index([0.5])


# --- cache of the procedurally rendered images ------------------------------


def test_images_are_rendered_once_and_memory_mapped(tmp_path):
    tiny = TinyDSprites(data_home=tmp_path)
    imgs = tiny.images
    assert imgs.shape == (288, 64, 64) and imgs.dtype == np.uint8
    assert tiny.cache_path.is_file() and tiny.cache_path.parent.parent == tmp_path
    expected = images(tiny, tiny.latents_classes)
    np.testing.assert_array_equal(imgs, expected)
    assert tiny.images is imgs  # cached on the instance

    mtime = os.stat(tiny.cache_path).st_mtime_ns
    again = TinyDSprites(data_home=tmp_path).images
    assert isinstance(again, np.memmap) and not again.flags.writeable
    np.testing.assert_array_equal(again, expected)
    assert os.stat(tiny.cache_path).st_mtime_ns == mtime  # read, not rendered again
    assert [p.name for p in tiny.cache_path.parent.iterdir()] == [tiny.cache_path.name]


def test_images_order_matches_sample_observations(tmp_path):
    tiny = TinyDSprites(data_home=tmp_path)
    factors = tiny.sample_factors(50, random_state=0)
    np.testing.assert_array_equal(
        tiny.images[tiny.index_from_factors(factors)], images(tiny, factors)
    )


def test_truncated_cache_is_rendered_again(tmp_path):
    tiny = TinyDSprites(data_home=tmp_path)
    expected = np.array(tiny.images)
    size = os.path.getsize(tiny.cache_path)
    with open(tiny.cache_path, "r+b") as f:
        f.truncate(size // 2)
    np.testing.assert_array_equal(TinyDSprites(data_home=tmp_path).images, expected)


def test_data_home_defaults_to_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DISENTANGLE_DATA", str(tmp_path))
    assert TinyDSprites().cache_path.parent == tmp_path / "dsprites"
    monkeypatch.delenv("DISENTANGLE_DATA")
    assert DSprites().cache_path.is_relative_to(os.path.expanduser("~/.cache/disentangle"))


def test_data_home_that_is_a_file_is_named(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"data_home \(or \$DISENTANGLE_DATA\) must be a "
                                         r"directory.*got '.*cache', which is a file"):
        DSprites(data_home=path)
    monkeypatch.setenv("DISENTANGLE_DATA", str(path))
    with pytest.raises(ValueError, match="which is a file"):
        DSprites()


# --- the ground-truth dataset protocol ---------------------------------------


def test_the_abstract_base_class_and_incomplete_subclasses_are_named():
    with pytest.raises(TypeError, match="abstract class GroundTruthDataset .*"
                                        "sample_observations_from_factors"):
        GroundTruthDataset()

    class NoRenderer(GroundTruthDataset):
        factor_sizes = (2, 3)

    with pytest.raises(TypeError, match="abstract class NoRenderer"):
        NoRenderer()

    class NoFactors(GroundTruthDataset):
        def sample_observations_from_factors(self, factors, random_state=None):
            return np.asarray(factors, np.float32)

    with pytest.raises(TypeError, match="NoFactors has no factors: a GroundTruthDataset subclass "
                                        "must set factor_sizes"):
        NoFactors().sample(4, random_state=0)


# --- the official npz --------------------------------------------------------


def write_npz(path, data, imgs=None, classes=None, **overrides):
    """Write an official-format npz for ``data``'s grid (color column included)."""
    classes = data.latents_classes if classes is None else classes
    arrays = {
        "imgs": data.images if imgs is None else imgs,
        "latents_classes": np.column_stack([np.zeros(len(classes), np.int64), classes]),
        "latents_values": np.column_stack([np.ones(len(classes)), data.latents_values]),
    }
    arrays.update(overrides)
    np.savez_compressed(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_npz_loads_like_the_renderer(tmp_path):
    rendered = TinyDSprites(data_home=tmp_path)
    path = write_npz(tmp_path / OFFICIAL_FILE_NAME, rendered)
    for where in (path, tmp_path, str(path)):
        loaded = TinyDSprites(path=where)
        assert loaded.source == "npz"
        factors = loaded.sample_factors(40, random_state=3)
        np.testing.assert_array_equal(images(loaded, factors), images(rendered, factors))
    np.testing.assert_array_equal(loaded.images, rendered.images)
    assert loaded.images.dtype == np.uint8


def test_npz_images_are_loaded_lazily(tmp_path):
    rendered = TinyDSprites(data_home=tmp_path)
    loaded = TinyDSprites(path=write_npz(tmp_path / "d.npz", rendered))
    assert "images" not in loaded.__dict__.get("_cache", {})
    loaded.sample_observations_from_factors([[0, 0, 0, 0, 0]])
    assert "images" in loaded._cache


def test_missing_npz_raises_file_not_found(tmp_path):
    with pytest.raises(
        FileNotFoundError, match=r"nothere\.npz.*'imgs' of shape \(737280, 64, 64\)"
    ):
        DSprites(path=tmp_path / "nothere.npz")
    with pytest.raises(FileNotFoundError, match=OFFICIAL_FILE_NAME):
        DSprites(path=tmp_path)  # a directory without the official file


def test_not_an_npz_raises(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"not a zip archive")
    with pytest.raises(ValueError, match=r"junk\.npz.*not a readable npz"):
        DSprites(path=path)


def test_truncated_npz_raises(tmp_path):
    path = write_npz(tmp_path / "d.npz", TinyDSprites(data_home=tmp_path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"d\.npz.*not a readable npz"):
        TinyDSprites(path=path)


def test_npz_with_missing_key_raises(tmp_path):
    path = write_npz(tmp_path / "d.npz", TinyDSprites(data_home=tmp_path), latents_values=None)
    with pytest.raises(ValueError, match=r"lacks the arrays \['latents_values'\]"):
        TinyDSprites(path=path)


def test_npz_with_wrong_shapes_raises(tmp_path):
    # A small file with the right keys is not the official grid.
    path = write_npz(tmp_path / "small.npz", TinyDSprites(data_home=tmp_path))
    with pytest.raises(ValueError, match=r"small\.npz.*'imgs' has shape \(288, 64, 64\)"):
        DSprites(path=path)
    path = tmp_path / "bad.npz"
    np.savez(
        path,
        imgs=np.zeros((288, 32, 32), np.uint8),
        latents_classes=np.zeros((288, 6)),
        latents_values=np.zeros((288, 6)),
    )
    with pytest.raises(ValueError, match=r"'imgs' has shape \(288, 32, 32\)"):
        TinyDSprites(path=path)


def test_npz_with_wrong_dtype_raises(tmp_path):
    tiny = TinyDSprites(data_home=tmp_path)
    path = write_npz(tmp_path / "d.npz", tiny, imgs=tiny.images.astype(np.float32))
    with pytest.raises(ValueError, match=r"'imgs' has shape \(288, 64, 64\) and dtype float32"):
        TinyDSprites(path=path)


def test_npz_out_of_order_raises(tmp_path):
    tiny = TinyDSprites(data_home=tmp_path)
    path = write_npz(tmp_path / "d.npz", tiny, classes=tiny.latents_classes[::-1])
    loaded = TinyDSprites(path=path)
    with pytest.raises(ValueError, match="official order"):
        _ = loaded.images


def test_npz_non_binary_images_raise(tmp_path):
    tiny = TinyDSprites(data_home=tmp_path)
    path = write_npz(tmp_path / "d.npz", tiny, imgs=tiny.images * np.uint8(255))
    with pytest.raises(ValueError, match=r"\{0, 1\}"):
        _ = TinyDSprites(path=path).images


def test_npz_with_corrupt_member_raises(tmp_path):
    path = tmp_path / "d.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for key in ("imgs", "latents_classes", "latents_values"):
            zf.writestr(key + ".npy", b"garbage")
    with pytest.raises(ValueError, match=r"d\.npz.*not a readable npz"):
        TinyDSprites(path=path)


def test_used_dsprites_pickles_without_its_caches(tmp_path):
    # Rendering builds the placement windows: a 6.6 MB strided view that pickling
    # would expand to 3.2 GB; the cache dict is dropped instead.
    data = DSprites(data_home=tmp_path)
    factors = data.sample_factors(16, random_state=0)
    observations = data.sample_observations_from_factors(factors)
    assert "windows" in data._cache
    blob = pickle.dumps(data)
    assert len(blob) < 1_000_000
    clone = pickle.loads(blob)
    np.testing.assert_array_equal(clone.sample_observations_from_factors(factors), observations)


@pytest.mark.parametrize("source", ["procedural", "npz"])
def test_images_travel_as_a_path(tmp_path, source):
    rendered = TinyDSprites(data_home=tmp_path)
    data = rendered if source == "procedural" else TinyDSprites(
        path=write_npz(tmp_path / "d.npz", rendered))
    pixels = data.images.copy()
    blob = pickle.dumps(data)
    assert len(blob) < 10_000 < pixels.nbytes
    clone = pickle.loads(blob)
    assert clone.source == source and "_cache" not in clone.__dict__
    np.testing.assert_array_equal(clone.images, pixels)
