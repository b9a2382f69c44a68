"""Loaders of the official files, on tiny files written in the official layouts."""

import pickle

import numpy as np
import pytest
from PIL import Image

from disentangle.datasets import (
    MPI3D,
    Cars3D,
    CelebA,
    ImageFolder,
    Shapes3D,
    SmallNORB,
    Teapots,
)
from disentangle.datasets.synthetic import (
    SHAPES3D_VALUES,
    write_cars3d,
    write_mpi3d,
    write_shapes3d,
    write_smallnorb,
    write_teapots,
)


def decoded_factors(observations, n_factors, scale):
    """Factor indices written by coded_images, read back from float observations."""
    pixels = np.rint(observations * 255).astype(int)
    return np.stack([(pixels[:, k % 3, k, 0] - 1) // scale for k in range(n_factors)], axis=1)


def test_shapes3d_reads_the_official_layout(tmp_path):
    sizes = (2, 3, 2, 2, 4, 3)
    write_shapes3d(tmp_path / "3dshapes.h5", sizes)
    data = Shapes3D(tmp_path, data_home=tmp_path / "home")
    assert data.factor_names == ("floor_hue", "wall_hue", "object_hue", "scale", "shape",
                                 "orientation")
    assert data.factor_sizes == sizes
    for k, values in enumerate(data.factor_values):
        np.testing.assert_allclose(values, SHAPES3D_VALUES[k][:sizes[k]])
    factors = data.sample_factors(50, random_state=0)
    observations = data.sample_observations_from_factors(factors)
    assert observations.shape == (50, 3, 64, 64) and observations.dtype == np.float32
    np.testing.assert_array_equal(decoded_factors(observations, 6, 25), factors)
    assert data.images.shape == (288, 3, 64, 64) and data.images.dtype == np.uint8
    assert isinstance(data.images, np.memmap)


def test_shapes3d_rejects_labels_out_of_order(tmp_path):
    import h5py

    write_shapes3d(tmp_path / "3dshapes.h5", (2, 2, 2, 2, 2, 2))
    with h5py.File(tmp_path / "3dshapes.h5", "r+") as f:
        f["labels"][:] = f["labels"][()][::-1]
    with pytest.raises(ValueError, match="official order"):
        Shapes3D(tmp_path / "3dshapes.h5")


def test_mpi3d_reads_the_official_layout(tmp_path):
    sizes = (2, 3, 2, 1, 2, 3, 2)
    write_mpi3d(tmp_path / "mpi3d_real.npz", sizes)
    data = MPI3D("real", tmp_path, factor_sizes=sizes, data_home=tmp_path / "home")
    factors = data.sample_factors(40, random_state=1)
    observations = data.sample_observations_from_factors(factors)
    assert observations.shape == (40, 3, 64, 64)
    np.testing.assert_array_equal(decoded_factors(observations, 7, 6), factors)
    with pytest.raises(ValueError, match="known releases"):
        MPI3D("real", tmp_path)  # 144 images is no release: the sizes must be given
    with pytest.raises(ValueError, match="variant"):
        MPI3D("cartoon", tmp_path)


def test_smallnorb_reads_the_binary_files_and_draws_instances(tmp_path):
    features = write_smallnorb(tmp_path)
    data = SmallNORB(tmp_path, data_home=tmp_path / "home")
    assert data.factor_names == ("category", "elevation", "azimuth", "lighting")
    assert data.factor_sizes == (2, 2, 3, 2) and data.n_instances == 4
    np.testing.assert_array_equal(data.features, features)
    factors = np.repeat(data.sample_factors(6, random_state=0), 50, axis=0)
    observations = data.sample_observations_from_factors(factors, random_state=0)
    assert observations.shape == (300, 1, 64, 64)
    expected = 40 * factors[:, 0] + 10 * factors[:, 1] + 3 * factors[:, 2] + factors[:, 3]
    np.testing.assert_allclose(observations[:, 0, 32, 32] * 255, expected, atol=0.5)
    rows = data._rows(factors, np.random.RandomState(0))
    assert len(np.unique(data.features[rows, 1])) == 4  # every instance is drawn


def test_cars3d_reads_the_mat_files(tmp_path):
    write_cars3d(tmp_path, n_cars=3)
    data = Cars3D(tmp_path, data_home=tmp_path / "home")
    assert data.factor_sizes == (4, 24, 3)
    factors = data.sample_factors(30, random_state=0)
    observations = np.rint(data.sample_observations_from_factors(factors) * 255)
    assert observations.shape == (30, 3, 64, 64)
    np.testing.assert_array_equal(observations[:, 0, 10, 10], 10 * factors[:, 2] + factors[:, 0])
    np.testing.assert_array_equal(observations[:, 1, 10, 10], factors[:, 1])


def test_teapots_bins_the_continuous_latents(tmp_path):
    latents = write_teapots(tmp_path / "data.npz", n=2000)
    data = Teapots(tmp_path, n_bins=2, data_home=tmp_path / "home")
    assert data.factor_sizes == (2,) * 5
    np.testing.assert_allclose(data.bin_edges[0], [0, np.pi, 2 * np.pi])
    np.testing.assert_allclose(data.latents, latents)
    factors = data.sample_factors(200, random_state=0)
    observations = data.sample_observations_from_factors(factors, random_state=0)
    rgb = observations[:, :, 0, 0]  # the image colour is the RGB latents
    np.testing.assert_array_equal(rgb >= 0.5, factors[:, 2:].astype(bool))
    assert data.images.shape == (2000, 3, 64, 64) and data.images.dtype == np.uint8
    with pytest.raises(ValueError, match="no teapot image"):
        Teapots(tmp_path / "data.npz", n_bins=40).sample_observations_from_factors(
            np.full((1, 5), 39), random_state=0)
    with pytest.raises(ValueError, match="n_bins"):
        Teapots(tmp_path, n_bins=1)


@pytest.mark.parametrize("image_size", [64, 32])
def test_image_folder_crops_resizes_and_caches(tmp_path, image_size):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    wide = np.zeros((100, 200, 3), dtype=np.uint8)
    wide[:, 50:150] = 200  # the centred square is all 200, the sides 0
    Image.fromarray(wide).save(folder / "a.png")
    Image.fromarray(np.full((80, 80, 3), 90, dtype=np.uint8)).save(folder / "sub" / "b.JPG")
    (folder / "notes.txt").write_text("not an image")
    data = ImageFolder(folder, image_size=image_size, data_home=tmp_path / "home")
    assert [p.name for p in data.files] == ["a.png", "b.JPG"]
    images = data.images
    assert images.shape == (2, 3, image_size, image_size) and images.dtype == np.uint8
    assert np.all(images[0] == 200) and abs(int(images[1].mean()) - 90) <= 1
    assert ImageFolder(folder, color=False, image_size=image_size,
                       data_home=tmp_path / "home").images.shape[1] == 1
    with pytest.raises(ValueError, match="not supported"):
        ImageFolder(folder, image_size=50)


def test_celeba_crops_the_centre_128(tmp_path):
    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    face = np.zeros((218, 178, 3), dtype=np.uint8)
    face[45:173, 25:153] = 255  # exactly the centred 128 x 128 square
    Image.fromarray(face).save(folder / "000001.png")
    data = CelebA(data_home=tmp_path)
    assert data.images.shape == (1, 3, 32, 32) and data.images.min() == 255
    with pytest.raises(FileNotFoundError, match="mmlab.*img_align_celeba"):
        CelebA(data_home=tmp_path / "elsewhere")


def test_used_loaders_pickle_without_pixels(tmp_path):
    write_shapes3d(tmp_path / "3dshapes.h5", (2, 2, 2, 2, 2, 2))
    data = Shapes3D(tmp_path, data_home=tmp_path / "home")
    data.sample_observations_from_factors(data.sample_factors(8, 0))
    assert "images" in data._cache
    blob = pickle.dumps(data)
    assert len(blob) < 10_000  # the path travels, not the pixels
    clone = pickle.loads(blob)
    assert clone.source_path == tmp_path / "3dshapes.h5" and "_cache" not in clone.__dict__
    np.testing.assert_array_equal(clone.images, data.images)
