"""Downloads that heal and loaders that name their files: each defect of the loaders'
download and open paths, on files in the official layouts written here."""

import dataclasses
import hashlib
import tarfile

import numpy as np
import pytest
from PIL import Image
from test_fetch import server  # noqa: F401 - the local HTTP server fixture

from disentangle.datasets import MPI3D, REMOTE_FILES, Cars3D, CelebA, Shapes3D, SmallNORB, Teapots
from disentangle.datasets._fetch import locate
from disentangle.datasets._images import as_uint8
from disentangle.datasets.synthetic import (
    write_cars3d,
    write_mpi3d,
    write_shapes3d,
    write_smallnorb,
    write_teapots,
)

ERROR_PAGE = b"<html><body>503 Service Unavailable</body></html>"
SIZES = (2, 2, 1, 1, 1, 2, 2)


def serve(monkeypatch, name, *urls):
    """Point the registry entry ``name`` at ``urls`` (mirrors), keeping its checks."""
    monkeypatch.setitem(REMOTE_FILES, name, dataclasses.replace(
        REMOTE_FILES[name], url=urls if len(urls) > 1 else urls[0]))


def test_no_registered_url_points_at_the_gone_mpi3d_bucket():
    urls = [url for remote in REMOTE_FILES.values() for url in remote.urls]
    assert not [url for url in urls if "storage.googleapis.com/disentanglement_dataset" in url]
    for variant in ("toy", "realistic", "real"):
        assert REMOTE_FILES[f"mpi3d_{variant}"].urls == (
            f"https://huggingface.co/datasets/waleedgondal/mpi3d/resolve/main/"
            f"mpi3d_{variant}.npz",)
    assert REMOTE_FILES["cars3d"].md5 == "4e866a7919c1beedf53964e6f7a23686"


def test_an_error_page_is_deleted_and_reported_not_kept(server, tmp_path, monkeypatch):  # noqa: F811
    www, url = server
    (www / "mpi3d_toy.npz").write_bytes(ERROR_PAGE)
    serve(monkeypatch, "mpi3d_toy", f"{url}/mpi3d_toy.npz")
    home = tmp_path / "home"
    found = hashlib.sha256(ERROR_PAGE).hexdigest()
    with pytest.raises(ValueError, match=rf"mpi3d_toy.npz: the download is not a valid "
                                         rf"mpi3d_toy.npz .*SHA-256 is {found}.*deleted"):
        MPI3D("toy", data_home=home)
    assert not (home / "mpi3d" / "mpi3d_toy.npz").exists()
    # Once the source serves the file, the next call downloads it.
    write_mpi3d(www / "mpi3d_toy.npz", SIZES)
    assert MPI3D("toy", data_home=home, factor_sizes=SIZES).factor_sizes == SIZES


def test_a_broken_file_in_the_data_home_is_downloaded_again(server, tmp_path, monkeypatch):  # noqa: F811
    www, url = server
    write_mpi3d(www / "mpi3d_toy.npz", SIZES)
    serve(monkeypatch, "mpi3d_toy", f"{url}/mpi3d_toy.npz")
    cached = tmp_path / "home" / "mpi3d" / "mpi3d_toy.npz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(ERROR_PAGE)  # what an earlier failed download left
    with pytest.raises(ValueError, match="delete it and download it again"):
        MPI3D("toy", data_home=tmp_path / "home", download_if_missing=False)
    with pytest.warns(UserWarning, match="deleted and downloaded again"):
        data = MPI3D("toy", data_home=tmp_path / "home", factor_sizes=SIZES)
    assert data.source_path == cached and cached.read_bytes()[:2] == b"PK"


def test_mirrors_are_tried_in_order(server, tmp_path, monkeypatch):  # noqa: F811
    www, url = server
    write_mpi3d(www / "good.npz", SIZES)
    (www / "bad.npz").write_bytes(ERROR_PAGE)
    serve(monkeypatch, "mpi3d_toy", f"{url}/gone.npz", f"{url}/bad.npz", f"{url}/good.npz")
    data = MPI3D("toy", data_home=tmp_path / "home", factor_sizes=SIZES)
    assert data.source_path.read_bytes() == (www / "good.npz").read_bytes()


def _cars_archive(tmp_path, www):
    cars = tmp_path / "src" / "data" / "cars"
    cars.mkdir(parents=True)
    write_cars3d(cars, n_cars=2)
    with tarfile.open(www / "analogy.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "src" / "data", arcname="data")
    return hashlib.md5((www / "analogy.tar.gz").read_bytes()).hexdigest()


def test_cars3d_archive_is_checked_against_its_published_md5(server, tmp_path, monkeypatch):  # noqa: F811
    www, url = server
    md5 = _cars_archive(tmp_path, www)
    serve(monkeypatch, "cars3d", f"{url}/analogy.tar.gz")
    home = tmp_path / "home"
    with pytest.raises(ValueError, match=f"has MD5 {md5}; expected MD5 4e866a7919c1beedf5"):
        Cars3D(data_home=home)
    assert not (home / "cars3d" / "data").exists()
    assert not (home / "cars3d" / "analogy.tar.gz").exists()
    monkeypatch.setitem(REMOTE_FILES, "cars3d", dataclasses.replace(REMOTE_FILES["cars3d"],
                                                                    md5=md5))
    assert Cars3D(data_home=home).factor_sizes == (4, 24, 2)


def test_an_archive_that_is_an_error_page_is_reported(server, tmp_path, monkeypatch):  # noqa: F811
    www, url = server
    (www / "analogy.tar.gz").write_bytes(ERROR_PAGE)
    monkeypatch.setitem(REMOTE_FILES, "cars3d", dataclasses.replace(
        REMOTE_FILES["cars3d"], url=f"{url}/analogy.tar.gz", md5=None))
    with pytest.raises(ValueError, match="could not be extracted"):
        Cars3D(data_home=tmp_path / "home")


# --- locate never returns a folder as a file ----------------------------------------------

@pytest.mark.parametrize(("loader", "missing"), [
    (Shapes3D, "3dshapes.h5"),
    (lambda path: MPI3D("real", path), "mpi3d_real.npz"),
    (Teapots, "data.npz"),
    (SmallNORB, "smallnorb-5x46789x9x18x6x2x96x96-training-dat.mat"),
])
def test_a_folder_without_the_file_names_the_file(tmp_path, loader, missing):
    with pytest.raises(FileNotFoundError, match=f"folder without the file '{missing}'"):
        loader(tmp_path)


def test_locate_finds_the_file_in_a_folder_and_folders_for_folder_entries(tmp_path):
    write_smallnorb(tmp_path)
    name = "smallnorb-5x46789x9x18x6x2x96x96-training-dat.mat"
    assert locate(name, tmp_path) == tmp_path / name
    (tmp_path / "data" / "cars").mkdir(parents=True)
    assert locate("cars3d", tmp_path) == tmp_path / "data" / "cars"
    assert locate("cars3d", tmp_path / "data" / "cars") == tmp_path / "data" / "cars"


# --- every open names the file --------------------------------------------------------------

@pytest.mark.parametrize("content", [ERROR_PAGE, b"\x89HDF\r\n\x1a\n" + b"\0" * 100])
def test_shapes3d_unreadable_file_is_named(tmp_path, content):
    (tmp_path / "3dshapes.h5").write_bytes(content)
    with pytest.raises(ValueError, match=r"Shapes3D file '.*3dshapes.h5' is not a readable HDF5"):
        Shapes3D(tmp_path)


def test_truncated_shapes3d_is_named(tmp_path):
    write_shapes3d(tmp_path / "3dshapes.h5", (2, 2, 2, 2, 2, 2))
    data = (tmp_path / "3dshapes.h5").read_bytes()
    (tmp_path / "3dshapes.h5").write_bytes(data[:len(data) // 3])
    with pytest.raises(ValueError, match="3dshapes.h5' is not a readable HDF5 file"):
        Shapes3D(tmp_path, data_home=tmp_path / "home").images  # noqa: B018


def test_truncated_cars3d_file_is_named(tmp_path):
    write_cars3d(tmp_path, n_cars=2)
    car = tmp_path / "car_001_mesh.mat"
    car.write_bytes(car.read_bytes()[:100_000])
    data = Cars3D(tmp_path, data_home=tmp_path / "home")
    with pytest.raises(ValueError, match=r"Cars3D file '.*car_001_mesh.mat' is not a readable"):
        data.images  # noqa: B018


def test_truncated_celeba_image_is_named(tmp_path):
    folder = tmp_path / "img_align_celeba"
    folder.mkdir()
    for k in range(2):
        Image.fromarray(np.full((218, 178, 3), 40 * k, np.uint8)).save(folder / f"{k:06d}.jpg")
    broken = folder / "000001.jpg"
    broken.write_bytes(broken.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"image file '.*000001.jpg' cannot be decoded"):
        CelebA(tmp_path, data_home=tmp_path / "home").images  # noqa: B018


def test_float_pixels_rounded_past_one_are_accepted_and_bad_ones_named():
    pixels = np.array([0.0, 1.0000001, -1e-9, 0.5])
    np.testing.assert_array_equal(as_uint8(pixels), [0, 255, 0, 128])
    with pytest.raises(ValueError, match=r"'imgs' of 'x.npz': float pixels must be in \[0, 1\]; "
                                         r"found values in \[0.0, 1.5\]"):
        as_uint8(np.array([0.0, 1.5]), "'imgs' of 'x.npz'")


# --- Cars3D order and extra files -----------------------------------------------------------

def test_cars3d_follows_list_txt_and_ignores_other_mat_files(tmp_path):
    write_cars3d(tmp_path, n_cars=3)
    np.save(tmp_path / "notes.npy", np.zeros(1))
    (tmp_path / "car_index.mat").write_bytes(b"not a car")  # another .mat in the folder
    data = Cars3D(tmp_path, data_home=tmp_path / "home")
    assert [p.name for p in data.source_paths] == [f"car_{k:03d}_mesh.mat" for k in range(3)]
    (tmp_path / "list.txt").write_text("car_002_mesh\ncar_000_mesh\ncar_001_mesh.mat\n")
    data = Cars3D(tmp_path, data_home=tmp_path / "home")
    assert [p.name for p in data.source_paths] == [
        "car_002_mesh.mat", "car_000_mesh.mat", "car_001_mesh.mat"]
    observation = data.sample_observations_from_factors(np.array([[1, 0, 0]]))
    assert np.rint(observation[0, 0, 10, 10] * 255) == 10 * 2 + 1  # object 0 is car 2
    (tmp_path / "list.txt").write_text("car_000_mesh\ncar_007_mesh\n")
    with pytest.raises(FileNotFoundError, match=r"lists 1 car file\(s\) missing.*car_007"):
        Cars3D(tmp_path)


# --- MPI3D complex, Teapots layout -------------------------------------------------------------

def test_mpi3d_complex_variant_reads_mpi3d_real_complex(tmp_path):
    write_mpi3d(tmp_path / "mpi3d_real_complex.npz", SIZES)
    data = MPI3D("complex", tmp_path, factor_sizes=SIZES, data_home=tmp_path / "home")
    assert data.source_path.name == "mpi3d_real_complex.npz" and data.factor_sizes == SIZES
    with pytest.raises(FileNotFoundError, match="Google Drive"):
        MPI3D("complex", data_home=tmp_path / "empty")


def test_teapots_refuses_the_other_generators_latents(tmp_path):
    latents = write_teapots(tmp_path / "data.npz", n=100)
    light = latents.copy()
    light[:, 2] = np.linspace(0, 2 * np.pi, 100, endpoint=False)  # an angle, not a colour
    np.savez(tmp_path / "data.npz", imgs=np.zeros((100, 64, 64, 3)), latents=light)
    with pytest.raises(ValueError, match=r"latent 2 \(red\) takes values in \[0, 6.22\].*"
                                         "another generator"):
        Teapots(tmp_path)


# --- DSprites: the official file when it can be had ----------------------------------------

def _tiny_official_file(tmp_path):
    """An official-format npz for TinyDSprites' grid, and the rendered dataset it copies."""
    from test_dsprites import TinyDSprites, write_npz

    rendered = TinyDSprites(source="rendered", data_home=tmp_path / "render")
    return TinyDSprites, write_npz(tmp_path / "official.npz", rendered)


def test_dsprites_uses_the_official_file_in_the_data_home(tmp_path):
    tiny, official = _tiny_official_file(tmp_path)
    home = tmp_path / "home"
    assert tiny(data_home=home).source == "procedural"  # nothing there, nothing to download
    (home / "dsprites").mkdir(parents=True)
    official.rename(home / "dsprites" / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz")
    data = tiny(data_home=home)
    assert data.source == "npz" and data.source_path.parent == home / "dsprites"
    assert tiny(data_home=home, source="rendered").source == "procedural"


def test_dsprites_downloads_the_official_file_or_says_why_it_renders(server, tmp_path,  # noqa: F811
                                                                     monkeypatch):
    www, url = server
    tiny, official = _tiny_official_file(tmp_path)
    serve(monkeypatch, "dsprites", f"{url}/dsprites.npz")
    with pytest.warns(UserWarning, match="official file is not available.*404.*Rendering"):
        assert tiny(data_home=tmp_path / "home").source == "procedural"
    with pytest.raises(FileNotFoundError, match="404"):
        tiny(data_home=tmp_path / "home", source="official")
    official.rename(www / "dsprites.npz")
    data = tiny(data_home=tmp_path / "home")
    assert data.source == "npz" and data.source_path.is_file()
    with pytest.raises(ValueError, match="source must be one of"):
        tiny(source="npz")
