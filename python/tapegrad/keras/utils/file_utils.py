"""``keras.utils.get_file``: a cached download (``keras/src/utils/file_utils.py``).

A file already in the cache (``~/.keras/datasets/`` by default, or ``cache_dir``/``KERAS_HOME``)
is returned without network access; otherwise it is downloaded with ``urllib``. Offline, the
download fails with Keras's ``Exception("URL fetch failure on {origin}: {errno} -- {reason}")``.
Archives are extracted with ``extract=True`` (tar and zip) in Keras 3's cache layout.
"""

import hashlib
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile

__all__ = ["get_file"]


def _hash(path, algorithm, expected=None):
    """The file's hex digest: SHA-256 for "sha256", and for "auto" when the expected hash has 64
    characters (Keras's rule); MD5 otherwise."""
    sha = algorithm == "sha256" or (algorithm == "auto" and expected is not None and len(expected) == 64)
    h = hashlib.sha256() if sha else hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(65535), b""):
            h.update(chunk)
    return h.hexdigest()


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
):
    """The local path of ``fname`` downloaded from ``origin`` into the Keras cache (reused if there)."""
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if cache_dir is None:
        cache_dir = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    datadir = os.path.join(os.path.expanduser(cache_dir), cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    fname = os.fspath(fname) if fname else fname
    provided = bool(fname)
    if provided and os.sep in fname:
        raise ValueError(
            "Paths are no longer accepted as the `fname` argument. To specify the file's parent directory, use "
            f"the `cache_dir` argument. Received: fname={fname}"
        )
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"Can't parse the file name from the origin provided: '{origin}'.Please specify the `fname` argument."
            )
    # Keras 3's cache layout: an archive named without a suffix is stored as NAME_archive and
    # extracted into NAME; one named NAME.ext... (given as fname) is stored as is and extracted into
    # NAME_extracted. A cache filled by either library serves the other.
    if extract or untar:
        if provided and "." in fname:
            fpath = os.path.join(datadir, fname)
            target = os.path.join(datadir, fname[: fname.find(".")] + "_extracted")
        else:
            fpath = os.path.join(datadir, fname + "_archive")
            target = os.path.join(datadir, fname)
    else:
        fpath = os.path.join(datadir, fname)
    download = force_download or not os.path.exists(fpath)
    if not download and file_hash is not None and _hash(fpath, hash_algorithm, file_hash) != file_hash:
        print(
            f"A local file was found, but it seems to be incomplete or outdated because the {hash_algorithm} "
            f"file hash does not match the original value of {file_hash} so we will re-download the data."
        )
        download = True
    if download:
        print(f"Downloading data from {origin}")
        tmp = fpath + ".part"
        try:
            try:
                with urllib.request.urlopen(origin) as r, open(tmp, "wb") as f:
                    shutil.copyfileobj(r, f)
            except urllib.error.HTTPError as e:
                raise Exception(f"URL fetch failure on {origin}: {e.code} -- {e.msg}") from e
            except urllib.error.URLError as e:
                raise Exception(f"URL fetch failure on {origin}: {getattr(e, 'errno', None)} -- {e.reason}") from e
            os.replace(tmp, fpath)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        if file_hash is not None and _hash(fpath, hash_algorithm, file_hash) != file_hash:
            raise ValueError(
                f"Incomplete or corrupted file detected. The {hash_algorithm} file hash does not match "
                f"the provided value of {file_hash}."
            )
    if extract or untar:
        if download or not os.path.exists(target):
            _extract(fpath, target, "tar" if untar else archive_format)
        return target
    return fpath


def _extract(path, target, archive_format):
    """Extracts the tar or zip archive at `path` into the folder `target` (removed again if that fails)."""
    formats = ["tar", "zip"] if archive_format == "auto" else [archive_format]
    for fmt in formats:
        if fmt not in ("tar", "zip"):
            raise NotImplementedError(fmt)
        is_match, opener = (tarfile.is_tarfile, tarfile.open) if fmt == "tar" else (zipfile.is_zipfile, zipfile.ZipFile)
        if not is_match(path):
            continue
        try:
            with opener(path) as archive:
                if fmt == "tar":
                    archive.extractall(target, filter="data")
                else:
                    archive.extractall(target)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        return
    raise ValueError(f"Could not extract {path}: not a {' or '.join(formats)} archive.")
