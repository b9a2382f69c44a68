"""Downloads with pooch from a local HTTP server: checksums, offline errors, loaders."""

import functools
import gzip
import hashlib
import http.server
import threading

import numpy as np
import pytest

from disentangle.datasets import REMOTE_FILES, Shapes3D, fetch_file
from disentangle.datasets._fetch import RemoteFile
from disentangle.datasets.synthetic import write_shapes3d


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path / "www"``; yields (folder, base URL)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(QuietHandler, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def register(monkeypatch, name, url, sha256=None, processor=None, filename="file.bin"):
    monkeypatch.setitem(REMOTE_FILES, name, RemoteFile(filename, url, "test", sha256,
                                                       processor, page="a page"))


def test_download_with_matching_checksum(server, tmp_path, monkeypatch):
    www, url = server
    (www / "file.bin").write_bytes(b"official bytes")
    digest = hashlib.sha256(b"official bytes").hexdigest()
    register(monkeypatch, "x", f"{url}/file.bin", sha256=digest)
    path = fetch_file("x", data_home=tmp_path / "home")
    assert path == tmp_path / "home" / "test" / "file.bin"
    assert path.read_bytes() == b"official bytes"
    (www / "file.bin").unlink()  # already there: no second download
    assert fetch_file("x", data_home=tmp_path / "home") == path


def test_download_with_another_checksum_is_refused_and_removed(server, tmp_path, monkeypatch):
    www, url = server
    (www / "file.bin").write_bytes(b"tampered bytes")
    register(monkeypatch, "x", f"{url}/file.bin", sha256="0" * 64)
    with pytest.raises(ValueError, match="expected SHA-256 0{64}"):
        fetch_file("x", data_home=tmp_path / "home")
    assert not (tmp_path / "home" / "test" / "file.bin").exists()
    digest = hashlib.sha256(b"tampered bytes").hexdigest()
    assert fetch_file("x", data_home=tmp_path / "home", sha256=digest).exists()


def test_gunzip_processor_keeps_the_decompressed_file(server, tmp_path, monkeypatch):
    www, url = server
    (www / "file.bin.gz").write_bytes(gzip.compress(b"norb matrix"))
    register(monkeypatch, "x", f"{url}/file.bin.gz", processor="gunzip")
    path = fetch_file("x", data_home=tmp_path / "home")
    assert path.name == "file.bin" and path.read_bytes() == b"norb matrix"
    assert not (path.parent / "file.bin.gz").exists()


def test_offline_error_names_url_file_and_folder(tmp_path, monkeypatch):
    register(monkeypatch, "x", "http://127.0.0.1:9/file.bin")  # nothing listens on port 9
    folder = tmp_path / "home" / "test"
    with pytest.raises(FileNotFoundError) as error:
        fetch_file("x", data_home=tmp_path / "home")
    message = str(error.value)
    assert "http://127.0.0.1:9/file.bin" in message and "'file.bin'" in message
    assert str(folder / "file.bin") in message and "download failed" in message
    with pytest.raises(FileNotFoundError, match="download_if_missing=False"):
        fetch_file("x", data_home=tmp_path / "home", download_if_missing=False)


def test_files_without_a_url_say_where_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot be downloaded.*InfoGAN-CR"):
        fetch_file("teapots", data_home=tmp_path)
    with pytest.raises(ValueError, match="unknown dataset file"):
        fetch_file("imagenet")


def test_loader_downloads_into_data_home(server, tmp_path, monkeypatch):
    www, url = server
    write_shapes3d(www / "3dshapes.h5", (2, 2, 2, 2, 2, 2))
    monkeypatch.setitem(REMOTE_FILES, "shapes3d", RemoteFile(
        "3dshapes.h5", f"{url}/3dshapes.h5", "shapes3d"))
    with pytest.raises(FileNotFoundError, match=r"3dshapes\.h5.*download_if_missing=False"):
        Shapes3D(data_home=tmp_path / "home", download_if_missing=False)
    data = Shapes3D(data_home=tmp_path / "home")
    assert data.source_path == tmp_path / "home" / "shapes3d" / "3dshapes.h5"
    assert data.sample_observations_from_factors(np.zeros((1, 6), dtype=int)).shape == (
        1, 3, 64, 64)


def test_archive_is_extracted_and_read(server, tmp_path, monkeypatch):
    import tarfile

    from disentangle.datasets import Cars3D
    from disentangle.datasets.synthetic import write_cars3d

    www, url = server
    cars = tmp_path / "src" / "data" / "cars"
    cars.mkdir(parents=True)
    write_cars3d(cars, n_cars=2)
    with tarfile.open(www / "analogy.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "src" / "data", arcname="data")
    monkeypatch.setitem(REMOTE_FILES, "cars3d", RemoteFile(
        "data/cars", f"{url}/analogy.tar.gz", "cars3d", processor="untar"))
    data = Cars3D(data_home=tmp_path / "home")
    assert [p.name for p in data.source_paths] == ["car_000_mesh.mat", "car_001_mesh.mat"]
    assert data.source_paths[0].parent == tmp_path / "home" / "cars3d" / "data" / "cars"
    assert not (tmp_path / "home" / "cars3d" / "analogy.tar.gz").exists()
    assert data.factor_sizes == (4, 24, 2)


def test_registry_records_known_official_checksums():
    # Shapes3D and the six SmallNORB archives: TensorFlow Datasets' records of the same URLs.
    recorded = {name: f.sha256 for name, f in REMOTE_FILES.items() if f.sha256}
    assert set(recorded) == {"shapes3d"} | {n for n in REMOTE_FILES if n.startswith("smallnorb")}
    assert len(recorded) == 7 and len(set(recorded.values())) == 7
    assert all(len(h) == 64 and set(h) <= set("0123456789abcdef") for h in recorded.values())
    assert REMOTE_FILES["shapes3d"].sha256.startswith("0a0f6ed98baff276")
