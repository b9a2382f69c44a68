"""Where dataset files live, and how the official ones are downloaded and verified.

The conventions follow :mod:`sklearn.datasets`: every loader takes ``data_home``
(default ``$DISENTANGLE_DATA``, else ``~/.cache/disentangle``) and
``download_if_missing``. Downloads go through pooch, which verifies the SHA-256
(or, where that is all the source publishes, the MD5) recorded in
:data:`REMOTE_FILES`. Every download, and every file already in the data home,
also passes a format check (an npz that opens, an HDF5 signature...), so that
an error page saved under the file's name is deleted and downloaded again
rather than kept. Where a file has several official locations they are tried
in order.
"""

import hashlib
import os
import shutil
import tarfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from disentangle._warnings import user_frame


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
    url : str, tuple of str, or None
        Official address, or official mirrors tried in order; None where the
        file cannot be fetched by a script (then ``page`` says where to get
        it).
    folder : str
        Sub-folder of the data home.
    sha256 : str or None
        SHA-256 of the file at ``url``, where it was recorded from the
        official source; None where it is not known.
    processor : {None, "gunzip", "untar"}
        What to do with the download: nothing, decompress a ``.gz``, or
        extract a ``.tar.gz``; the archive itself is deleted afterwards.
    page : str
        The page that documents the file, for error messages.
    md5 : str or None
        MD5 of the file at ``url`` where the source publishes only that (used
        when ``sha256`` is None).
    check : {None, "npz", "hdf5", "norb", "folder"}
        Format check of the file (or folder) once there: an npz whose zip
        directory reads, an HDF5 signature, a NORB matrix header, a folder.
    """

    filename: str
    url: str | tuple | None
    folder: str
    sha256: str | None = None
    processor: str | None = None
    page: str = ""
    md5: str | None = None
    check: str | None = None

    @property
    def urls(self):
        """The official locations, in the order they are tried (a tuple, maybe empty)."""
        if self.url is None:
            return ()
        return (self.url,) if isinstance(self.url, str) else tuple(self.url)

    @property
    def is_folder(self):
        """Whether the entry is a folder (an extracted archive, a folder of images)."""
        return self.processor == "untar" or self.check == "folder"

    @property
    def known_hash(self):
        """pooch's ``known_hash``: ``"sha256:..."``, else ``"md5:..."``, else None."""
        if self.sha256:
            return f"sha256:{self.sha256}"
        return f"md5:{self.md5}" if self.md5 else None


_NORB = "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/"
# The MPI3D README (rr-learning/disentanglement_dataset, commit a7a6729, April 2025) moved
# the files here from storage.googleapis.com/disentanglement_dataset/Final_Dataset/, which
# is gone (checked December 2026); no SHA-256 is published, so the download is format-checked.
_MPI3D = "https://huggingface.co/datasets/waleedgondal/mpi3d/resolve/main/"
_MPI3D_PAGE = "https://github.com/rr-learning/disentanglement_dataset"


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
                                     processor="gunzip", page=_NORB, check="norb")
    return files


#: Every official file a loader can fetch, by name. A checksum is recorded only
#: where an independent record of the official file exists (TensorFlow Datasets'
#: ``url_checksums`` for Shapes3D and the SmallNORB archives, the publisher's MD5
#: for the Cars3D archive); it is never guessed. Without one the format check
#: guards the download.
REMOTE_FILES = {
    "dsprites": RemoteFile(
        "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz",
        "https://github.com/deepmind/dsprites-dataset/raw/master/"
        "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz",
        "dsprites", page="https://github.com/deepmind/dsprites-dataset", check="npz"),
    "shapes3d": RemoteFile(
        "3dshapes.h5", "https://storage.googleapis.com/3d-shapes/3dshapes.h5", "shapes3d",
        # tensorflow_datasets/url_checksums/shapes3d.txt (267,573,662 bytes).
        sha256="0a0f6ed98baff276a50f3a081a7434d788da63cb135a98189b2a5b5769be1785",
        page="https://github.com/deepmind/3d-shapes", check="hdf5"),
    **{f"mpi3d_{variant}": RemoteFile(f"mpi3d_{variant}.npz", f"{_MPI3D}mpi3d_{variant}.npz",
                                      "mpi3d", page=_MPI3D_PAGE, check="npz")
       for variant in ("toy", "realistic", "real")},
    # 460,800 images of other colours and shapes, published only in a Google Drive folder
    # linked from the README (December 2026).
    "mpi3d_complex": RemoteFile(
        "mpi3d_real_complex.npz", None, "mpi3d", check="npz",
        page=f"{_MPI3D_PAGE} (README: mpi3d_real_complex, a Google Drive folder)"),
    **_norb_files(),
    "cars3d": RemoteFile("data/cars",
                         "http://www.scottreed.info/files/nips2015-analogy-data.tar.gz", "cars3d",
                         processor="untar", page="http://www.scottreed.info/", check="folder",
                         # The MD5 published for nips2015-analogy-data.tar.gz.
                         md5="4e866a7919c1beedf53964e6f7a23686"),
    "teapots": RemoteFile(
        "data.npz", None, "teapots", check="npz",
        page="the InfoGAN-CR README (github.com/fjxmlzn/InfoGAN-CR, 'Preparing datasets'): "
             "https://drive.google.com/drive/folders/1tyTgGZ4Yb2hXCLoXxvUZPJ-y3pFd4I_E, the "
             "all_color_incomplete_rotation_up_light folder's train_data/data.npz"),
    "celeba": RemoteFile("img_align_celeba", None, "celeba", check="folder",
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
    source = (f"download it from {remote.urls[0]}" if remote.urls
              else f"get it as described on {remote.page}")
    return FileNotFoundError(
        f"{remote.filename!r} is not in {str(folder)!r} and {reason}; {source} and put it "
        f"there as {str(folder / remote.filename)!r} (or pass its path, or data_home= / "
        "$DISENTANGLE_DATA for another folder)."
    )


_NORB_MAGIC = (0x1E3D4C55, 0x1E3D4C54)  # uint8 and int32 matrices
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def format_problem(remote, path):
    """Why ``path`` is not a file (or folder) of ``remote``'s format, or None if it passes.

    The checks are cheap (a signature, a zip directory): they catch an HTML
    error page or a truncated download saved under the official name.

    Returns
    -------
    problem : str or None
    """
    path = Path(path)
    if remote.is_folder:
        return None if path.is_dir() else "it is not a folder"
    if not path.is_file():
        return "it is not a file"
    if remote.check == "npz":
        try:
            with zipfile.ZipFile(path) as zf:
                zf.namelist()
        except (zipfile.BadZipFile, OSError) as error:
            return f"it is not an npz (zip) file ({error})"
    elif remote.check == "hdf5":
        with open(path, "rb") as f:
            if f.read(8) != _HDF5_SIGNATURE:
                return "it does not start with the HDF5 signature"
    elif remote.check == "norb":
        with open(path, "rb") as f:
            if int.from_bytes(f.read(4), "little") not in _NORB_MAGIC:
                return "it does not start with a NORB matrix's magic number"
    return None


def file_digest(path, algorithm="sha256"):
    """Hex digest of a file, read 1 MiB at a time."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_file(name, data_home=None, download_if_missing=True, sha256=None):
    """Path of an official dataset file, downloaded with pooch if needed.

    A file already in the data home that fails its format check (an error
    page or a truncated file saved under the official name by an earlier
    download) is deleted and downloaded again, with a warning.

    Parameters
    ----------
    name : str
        A key of :data:`REMOTE_FILES`, e.g. ``"shapes3d"``, ``"mpi3d_toy"``,
        ``"dsprites"``, ``"cars3d"`` or a SmallNORB file name.
    data_home : str, path-like or None, default=None
        See :func:`default_data_home`; the file goes to its sub-folder
        ``REMOTE_FILES[name].folder``.
    download_if_missing : bool, default=True
        Download a missing (or broken) file; False raises instead.
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
        has no URL, or every download failed (offline); the message names the
        URLs, the file name and where to put it.
    ValueError
        Every download failed its checksum or its format check (each was
        deleted; the message gives the URL, the expected and the found
        checksum and what to do), or a file in the data home fails its format
        check and may not be downloaded again.
    """
    remote = remote_file(name)
    folder = _where(remote, data_home)
    path = folder / remote.filename
    if path.exists():
        problem = format_problem(remote, path)
        if problem is None:
            return path
        if not (remote.urls and download_if_missing):
            raise ValueError(f"{str(path)!r} is not a valid {remote.filename} ({problem}); "
                             "delete it and download it again"
                             + (f" from {remote.urls[0]}." if remote.urls
                                else f" as described on {remote.page}."))
        warnings.warn(f"{str(path)!r} is not a valid {remote.filename} ({problem}), probably "
                      "a failed download; it is deleted and downloaded again.", **user_frame())
        _remove(path)
    if not remote.urls:
        raise _not_found(remote, folder, "it cannot be downloaded by a script")
    if not download_if_missing:
        raise _not_found(remote, folder, "download_if_missing=False")
    return _download(remote, folder, sha256)


def _remove(path):
    """Delete a file or a folder tree."""
    if Path(path).is_dir():
        shutil.rmtree(path)
    else:
        Path(path).unlink(missing_ok=True)


def _download(remote, folder, sha256=None):
    """Try each official location in turn; the first download that checks out wins."""
    import pooch

    algorithm, expected = (("sha256", sha256 or remote.sha256) if sha256 or remote.sha256
                           else ("md5", remote.md5))
    failures, offline = [], True
    for url in remote.urls:
        # A file is saved under its official name whatever the mirror calls it.
        fname = url.rsplit("/", 1)[-1] if remote.processor else remote.filename
        try:
            pooch.retrieve(url, known_hash=None, fname=fname, path=folder, progressbar=False)
        except OSError as error:  # requests' errors (offline, HTTP 404) are OSErrors too
            failures.append(f"{url}: {error}")
            continue
        offline = False
        archive, target = folder / fname, folder / remote.filename
        problem = _download_problem(remote, archive, target, algorithm, expected)
        if remote.processor is not None or problem is not None:
            archive.unlink(missing_ok=True)  # keep only the decompressed data
        if problem is None:
            return target
        _remove(target)
        failures.append(f"{url}: {problem}; it was deleted")
    if offline:
        raise _not_found(remote, folder, "the download failed (" + "; ".join(failures) + ")")
    raise ValueError(
        f"no official copy of {remote.filename!r} could be downloaded: " + "; ".join(failures)
        + f". Retry later (the source may have served an error page), or download it by hand "
        f"(see {remote.page}) and put it at {str(folder / remote.filename)!r}."
    )


def _unpack(remote, archive):
    """Decompress or extract ``archive`` as ``remote.processor`` says; why not, or None."""
    import pooch

    processor = {"gunzip": pooch.Decompress(method="gzip", name=remote.filename),
                 "untar": pooch.Untar(extract_dir=".")}.get(remote.processor)
    if processor is None:
        return None
    try:
        processor(str(archive), "download", None)
    except (OSError, EOFError, tarfile.TarError, zlib.error) as error:
        verb = "extracted" if remote.processor == "untar" else "decompressed"
        return f"it could not be {verb} ({error})"
    return None


def _download_problem(remote, archive, target, algorithm, expected):
    """What is wrong with a download (its checksum, else its format), or None."""
    if expected:
        found = file_digest(archive, algorithm)
        if found != expected.lower():
            label = {"sha256": "SHA-256", "md5": "MD5"}[algorithm]
            return f"the download has {label} {found}; expected {label} {expected}"
    problem = _unpack(remote, archive) or format_problem(remote, target)
    if problem is None:
        return None
    found = file_digest(archive)
    return (f"the download is not a valid {remote.filename} ({problem}); its SHA-256 is "
            f"{found}, expected {expected or 'none recorded (format check only)'}")


def locate(name, path=None, data_home=None, download_if_missing=True):
    """The file a loader reads: ``path`` if given (a file, or a folder holding it), else fetched.

    Parameters
    ----------
    name : str
        A key of :data:`REMOTE_FILES`.
    path : str, path-like or None
        The file, or the folder that holds it under its official name (for a
        folder entry such as Cars3D's ``data/cars``: that folder, or one that
        holds it).
    data_home, download_if_missing
        See :func:`fetch_file`, used when ``path`` is None.

    Returns
    -------
    path : pathlib.Path
        A file for file entries, never a folder.

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``, or a folder that does not hold the file (the
        message names the file it looked for), or as :func:`fetch_file`.
    """
    if path is None:
        return fetch_file(name, data_home, download_if_missing)
    remote = remote_file(name)
    path = Path(path).expanduser()
    inside = path / remote.filename
    if path.is_dir() and (inside.is_dir() if remote.is_folder else inside.is_file()):
        path = inside
    where = f"(from {', '.join(remote.urls) or remote.page})"
    if not path.exists():
        raise FileNotFoundError(
            f"{str(path)!r} does not exist; expected the file {remote.filename!r} {where} or a "
            "folder that holds it."
        )
    if path.is_dir() and not remote.is_folder:
        raise FileNotFoundError(
            f"{str(path)!r} is a folder without the file {remote.filename!r}; pass the file "
            f"itself or the folder that holds it under that name {where}."
        )
    return path


def cache_file(folder, data_home, stem, digest):
    """Path of a decoded-image cache: ``data_home/folder/stem_digest.npy``."""
    return default_data_home(data_home) / folder / f"{stem}_{digest}.npy"
