"""Image storage shared by the loaders: uint8, channel-first, decoded once and memory-mapped.

The official files store images channel-last (``(n, 64, 64, 3)``), some as
floats, some at another size, some compressed. Training reads random rows many
times, so every loader decodes its file once, in chunks (resident memory stays
at one chunk), into a ``(n, C, H, W)`` uint8 ``.npy`` file under the data home
and memory-maps it read-only afterwards, from any process. The cache's name
holds a digest of the source's path, size and modification time, so a changed
source gets a new cache.
"""

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np

#: Rows decoded and written at a time (2,048 rows of 64x64x3: 25 MB).
CHUNK_ROWS = 2048


def source_digest(*paths, extra=()):
    """A short digest of files' resolved paths, sizes and modification times.

    Parameters
    ----------
    *paths : path-like
    extra : tuple
        More values to distinguish caches (image size, format version...).

    Returns
    -------
    digest : str
        16 hex digits.
    """
    parts = []
    for path in paths:
        path = Path(path).resolve()
        stat = path.stat()
        parts.append((str(path), stat.st_size, stat.st_mtime_ns))
    return hashlib.sha256(repr((parts, extra)).encode()).hexdigest()[:16]


def open_npy(path, shape):
    """The uint8 ``.npy`` at ``path`` memory-mapped read-only, or None if missing or not ``shape``.

    Parameters
    ----------
    path : pathlib.Path
    shape : tuple of int

    Returns
    -------
    images : numpy.memmap or None
    """
    try:
        images = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return None
    if images.shape != tuple(shape) or images.dtype != np.uint8:
        return None
    return images


def write_npy(path, shape, chunks):
    """Write uint8 chunks as one ``.npy`` of ``shape``, atomically, with plain writes.

    The file appears under its name only when complete (written to a
    temporary name first), so an interrupted run leaves no half cache.

    Parameters
    ----------
    path : pathlib.Path
    shape : tuple of int
    chunks : iterable of ndarray
        Consecutive rows; together exactly ``shape``.

    Raises
    ------
    ValueError
        The chunks hold another number of rows or another row shape.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    header = {"descr": "|u1", "fortran_order": False, "shape": tuple(shape)}
    rows = 0
    try:
        with open(tmp, "wb") as f:
            np.lib.format.write_array_header_1_0(f, header)
            for chunk in chunks:
                if chunk.shape[1:] != tuple(shape[1:]):
                    raise ValueError(f"rows of shape {chunk.shape[1:]}; expected {shape[1:]}.")
                f.write(np.ascontiguousarray(chunk, dtype=np.uint8).data)
                rows += len(chunk)
        if rows != shape[0]:
            raise ValueError(f"{rows} rows written; expected {shape[0]}.")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def cached_images(path, shape, make_chunks):
    """Memory-mapped uint8 images at ``path``, written from ``make_chunks()`` if absent.

    Parameters
    ----------
    path : pathlib.Path
    shape : tuple of int
        ``(n, C, H, W)``.
    make_chunks : callable
        Returns an iterable of uint8 chunks of ``(rows, C, H, W)``; called
        only when the cache is missing.

    Returns
    -------
    images : numpy.memmap of shape ``shape``, uint8, read-only
    """
    images = open_npy(path, shape)
    if images is None:
        write_npy(path, shape, make_chunks())
        images = open_npy(path, shape)
    return images


#: Rounding slack of float images: renderers write 1.0000001 or -1e-8 for 1 and 0.
FLOAT_SLACK = 1e-5


def as_uint8(images, what="images"):
    """Pixels as uint8: uint8 unchanged, floats in [0, 1] scaled by 255 and rounded.

    Floats up to :data:`FLOAT_SLACK` outside [0, 1] (rounding in the
    renderer) are clipped.

    Parameters
    ----------
    images : array-like
    what : str, default="images"
        The source, for the message (e.g. "'imgs' of Teapots file '...'").

    Raises
    ------
    ValueError
        Another dtype, or floats further outside [0, 1]; the message names
        ``what`` and the range found.
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    if images.dtype.kind != "f":
        raise ValueError(f"{what} must be uint8 or floats in [0, 1]; got dtype {images.dtype}.")
    if images.size:
        low, high = float(images.min()), float(images.max())
        if low < -FLOAT_SLACK or high > 1 + FLOAT_SLACK or not np.isfinite(low + high):
            raise ValueError(f"{what}: float pixels must be in [0, 1]; found values in "
                             f"[{low}, {high}].")
    return np.rint(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8)


def channels_first(images):
    """``(n, H, W, C)`` images as ``(n, C, H, W)`` (a view)."""
    return np.moveaxis(images, -1, 1)


def read_npy_header(f):
    """Shape and dtype of the ``.npy`` stream ``f``, leaving it at the start of the data.

    Raises
    ------
    ValueError
        Not an ``.npy`` stream, or a Fortran-ordered array.
    """
    version = np.lib.format.read_magic(f)
    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
            else np.lib.format.read_array_header_2_0)
    shape, fortran, dtype = read(f)
    if fortran:
        raise ValueError("Fortran-ordered arrays are not supported.")
    return tuple(shape), dtype


def npz_headers(path, what=None):
    """Shape and dtype of every array of the npz at ``path``, without reading the data.

    Parameters
    ----------
    path : path-like
    what : str or None, default=None
        The file, for the message (e.g. "MPI3D file '...'"); default its path.

    Returns
    -------
    headers : dict of str to (tuple, numpy.dtype)

    Raises
    ------
    ValueError
        Not a readable npz (truncated, not a zip); the message names the file
        and says to delete it so that it is downloaded again.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            headers = {}
            for name in zf.namelist():
                if name.endswith(".npy"):
                    with zf.open(name) as f:
                        headers[name[:-4]] = read_npy_header(f)
            return headers
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise ValueError(
            f"{what or repr(str(path))} is not a readable npz ({error}): a truncated or failed "
            "download? Delete it; a loader downloads it again (or get it from the source)."
        ) from error


def iter_npz_rows(path, key, rows=CHUNK_ROWS):
    """Yield the array ``key`` of an npz ``rows`` rows at a time, never all of it at once.

    Works for stored and compressed members alike (``zipfile`` decompresses
    as it reads).

    Yields
    ------
    chunk : ndarray of shape (<= rows, *row_shape)
    """
    with zipfile.ZipFile(path) as zf, zf.open(f"{key}.npy") as f:
        shape, dtype = read_npy_header(f)
        row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
        for start in range(0, shape[0], rows):
            n = min(rows, shape[0] - start)
            data = f.read(n * row_bytes)
            if len(data) != n * row_bytes:
                raise ValueError(f"{str(path)!r}: '{key}' is truncated.")
            yield np.frombuffer(data, dtype=dtype).reshape(n, *shape[1:])


def resize_square(image, size, crop=None):
    """Centre-crop and resize one image to ``size`` x ``size`` with Pillow.

    Parameters
    ----------
    image : PIL.Image.Image or ndarray of shape (H, W) or (H, W, 3), uint8
    size : int
    crop : int or None, default=None
        Side of a centred square cut out first (CelebA's 128, as in the
        InfoGAN-CR ``process_celeba.py``); None cuts the largest centred
        square.

    Returns
    -------
    resized : ndarray of shape (size, size) or (size, size, 3), uint8
        Resampled with Lanczos filtering (Pillow's ``LANCZOS``, formerly
        ``ANTIALIAS``, which disentanglement_lib uses for SmallNORB and
        Cars3D).
    """
    from PIL import Image

    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    width, height = image.size
    side = min(width, height) if crop is None else min(crop, width, height)
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    return np.asarray(image.resize((size, size), Image.LANCZOS))


def npz_image_chunks(path, key):
    """Channel-last images ``key`` of an npz, as channel-first uint8 chunks."""
    for chunk in iter_npz_rows(path, key):
        yield channels_first(as_uint8(chunk, f"{key!r} of {str(path)!r}"))
