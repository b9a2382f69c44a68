"""Where dataset files live, and how the official ones are downloaded and verified.

The conventions follow :mod:`sklearn.datasets`: every loader takes ``data_home``
(default ``$DISENTANGLE_DATA``, else ``~/.cache/disentangle``) and
``download_if_missing``. Downloads go through pooch, which verifies a SHA-256
when one is recorded in :data:`REMOTE_FILES` and otherwise logs the hash of
what it downloaded, so that the user can pin it.
"""

import os
from dataclasses import dataclass
from pathlib import Path


def default_data_home(data_home=None):
    """Directory for downloaded files and caches.

    Parameters
    ----------
    data_home : str, path-like or None, default=None
        Explicit directory. When None, the ``DISENTANGLE_DATA`` environment
        variable, else ``~/.cache/disentangle``.

    Returns
    -------
    path : pathlib.Path
        The directory (not created here).
    """
    if data_home is None:
        data_home = os.environ.get("DISENTANGLE_DATA") or "~/.cache/disentangle"
    return Path(data_home).expanduser()


@dataclass(frozen=True)
class RemoteFile:
    """One official file: where it is published and how to check it.

    Attributes
    ----------
    filename : str
        Name of the file once downloaded: the decompressed file for
        ``processor="gunzip"``, the folder inside the archive for ``"untar"``.
    url : str or None
        Official address; None where the file cannot be fetched by a script
        (then ``page`` says where to get it).
    folder : str
        Sub-folder of the data home.
    sha256 : str or None
        SHA-256 of the file at ``url``, where it was recorded from the
        official source; None where it is not known (pooch then logs the
        hash of the downloaded file instead of verifying it).
    processor : {None, "gunzip", "untar"}
        What to do with the download: nothing, decompress a ``.gz``, or
        extract a ``.tar.gz``; the archive itself is deleted afterwards.
    page : str
        The page that documents the file, for error messages.
    """

    filename: str
    url: str | None
    folder: str
    sha256: str | None = None
    processor: str | None = None
    page: str = ""


_NORB = "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/"
_MPI3D = "https://storage.googleapis.com/disentanglement_dataset/Final_Dataset/"


# SHA-256 of the official .gz files, as recorded by TensorFlow Datasets
# (tensorflow_datasets/url_checksums/smallnorb.txt) for these same URLs.
_NORB_SHA256 = {
    "training-dat": "5ffd6272a07d32695ee1082a26a41a93a37aab8c28da047f8c34ed348d214873",
    "training-cat": "2784e542c1922060691090952b6cd6278879a216c90f81476f0f00256d42cdaa",
    "training-info": "de7eb932ebe7a4ee16217fead60660d0eb3d23632c2f4d1c51f88c501c17bf32",
    "testing-dat": "cf7104eed3e51174d2f65b66d1e5878b9da233b886f161b0d88f4510ba2c7474",
    "testing-cat": "ecaf6d5bb8c3bc5eab9cf0258f6d2198dd474e016e374836fc097f2e5ff509ff",
    "testing-info": "16adf314226327ee006d1a44db8cfef52773c06c829951d5653a9f6f310248a2",
}


def _norb_files():
    files = {}
    for chunk in ("5x46789x9x18x6x2x96x96-training", "5x01235x9x18x6x2x96x96-testing"):
        for part in ("dat", "cat", "info"):
            name = f"smallnorb-{chunk}-{part}.mat"
            sha256 = _NORB_SHA256[f"{chunk.rsplit('-', 1)[1]}-{part}"]
            files[name] = RemoteFile(name, f"{_NORB}{name}.gz", "smallnorb", sha256=sha256,
                                     processor="gunzip", page=_NORB)
    return files


#: Every official file a loader can fetch, by name. A SHA-256 is recorded only
#: where an independent record of the official file exists (TensorFlow Datasets'
#: ``url_checksums`` for Shapes3D and the SmallNORB archives); it is never guessed.
REMOTE_FILES = {
    "dsprites": RemoteFile(
        "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz",
        "https://github.com/deepmind/dsprites-dataset/raw/master/"
        "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz",
        "dsprites", page="https://github.com/deepmind/dsprites-dataset"),
    "shapes3d": RemoteFile(
        "3dshapes.h5", "https://storage.googleapis.com/3d-shapes/3dshapes.h5", "shapes3d",
        # tensorflow_datasets/url_checksums/shapes3d.txt (267,573,662 bytes).
        sha256="0a0f6ed98baff276a50f3a081a7434d788da63cb135a98189b2a5b5769be1785",
        page="https://github.com/deepmind/3d-shapes"),
    **{f"mpi3d_{variant}": RemoteFile(f"mpi3d_{variant}.npz", f"{_MPI3D}mpi3d_{variant}.npz",
                                      "mpi3d",
                                      page="https://github.com/rr-learning/disentanglement_dataset")
       for variant in ("toy", "realistic", "real")},
    **_norb_files(),
    "cars3d": RemoteFile("data/cars",
                         "http://www.scottreed.info/files/nips2015-analogy-data.tar.gz", "cars3d",
                         processor="untar", page="http://www.scottreed.info/"),
    "teapots": RemoteFile(
        "data.npz", None, "teapots",
        page="https://github.com/fjxmlzn/InfoGAN-CR (3D_teapot/generate_teapots_*.py writes "
             "train_data/data.npz)"),
    "celeba": RemoteFile("img_align_celeba", None, "celeba",
                         page="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"),
}


def remote_file(name):
    """The :class:`RemoteFile` registered as ``name``; a ValueError lists the known names."""
    try:
        return REMOTE_FILES[name]
    except KeyError:
        raise ValueError(f"unknown dataset file {name!r}; known: {sorted(REMOTE_FILES)}.") from None


def _where(remote, data_home):
    return default_data_home(data_home) / remote.folder


def _not_found(remote, folder, reason):
    source = (f"download it from {remote.url}" if remote.url
              else f"get it as described on {remote.page}")
    return FileNotFoundError(
        f"{remote.filename!r} is not in {str(folder)!r} and {reason}; {source} and put it "
        f"there as {str(folder / remote.filename)!r} (or pass its path, or data_home= / "
        "$DISENTANGLE_DATA for another folder)."
    )


def fetch_file(name, data_home=None, download_if_missing=True, sha256=None):
    """Path of an official dataset file, downloaded with pooch if needed.

    Parameters
    ----------
    name : str
        A key of :data:`REMOTE_FILES`, e.g. ``"shapes3d"``, ``"mpi3d_toy"``,
        ``"dsprites"``, ``"cars3d"`` or a SmallNORB file name.
    data_home : str, path-like or None, default=None
        See :func:`default_data_home`; the file goes to its sub-folder
        ``REMOTE_FILES[name].folder``.
    download_if_missing : bool, default=True
        Download a missing file; False raises instead.
    sha256 : str or None, default=None
        Expected SHA-256 of the download (overrides the registry's).

    Returns
    -------
    path : pathlib.Path
        The file (for ``"untar"`` entries, the extracted folder).

    Raises
    ------
    FileNotFoundError
        The file is missing and ``download_if_missing`` is False, the entry
        has no URL, or the download failed (offline); the message names the
        URL, the file name and where to put it.
    ValueError
        The download's SHA-256 differs from the expected one (pooch removes
        the file).
    """
    remote = remote_file(name)
    folder = _where(remote, data_home)
    path = folder / remote.filename
    if path.exists():
        return path
    if remote.url is None:
        raise _not_found(remote, folder, "it cannot be downloaded by a script")
    if not download_if_missing:
        raise _not_found(remote, folder, "download_if_missing=False")
    return _download(remote, folder, sha256 or remote.sha256)


def _download(remote, folder, sha256):
    import pooch

    processor = {"gunzip": pooch.Decompress(method="gzip", name=remote.filename),
                 "untar": pooch.Untar(extract_dir=".")}.get(remote.processor)
    fname = remote.url.rsplit("/", 1)[-1]
    try:
        pooch.retrieve(remote.url, known_hash=f"sha256:{sha256}" if sha256 else None,
                       fname=fname, path=folder, processor=processor, progressbar=False)
    except OSError as error:  # requests' errors (offline, HTTP 404) are OSErrors too
        raise _not_found(remote, folder, f"the download failed ({error})") from error
    except ValueError as error:
        raise ValueError(
            f"the file downloaded from {remote.url} does not have the expected SHA-256 "
            f"{sha256}; it was removed. Retry, or check the source ({error})."
        ) from error
    if remote.processor is not None:
        (folder / fname).unlink(missing_ok=True)  # keep only the decompressed data
    return folder / remote.filename


def locate(name, path=None, data_home=None, download_if_missing=True):
    """The file a loader reads: ``path`` if given (a file, or a folder holding it), else fetched.

    Parameters
    ----------
    name : str
        A key of :data:`REMOTE_FILES`.
    path : str, path-like or None
        The file, or the folder that holds it under its official name.
    data_home, download_if_missing
        See :func:`fetch_file`, used when ``path`` is None.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``, or as :func:`fetch_file`.
    """
    if path is None:
        return fetch_file(name, data_home, download_if_missing)
    remote = remote_file(name)
    path = Path(path).expanduser()
    if path.is_dir() and (path / remote.filename).exists():
        path = path / remote.filename
    if not path.exists():
        raise FileNotFoundError(
            f"{str(path)!r} does not exist; expected the file {remote.filename!r} (from "
            f"{remote.url or remote.page}) or a folder that holds it."
        )
    return path


def cache_file(folder, data_home, stem, digest):
    """Path of a decoded-image cache: ``data_home/folder/stem_digest.npy``."""
    return default_data_home(data_home) / folder / f"{stem}_{digest}.npy"
