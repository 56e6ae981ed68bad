"""``keras.utils.get_file``: a cached download (``keras/src/utils/file_utils.py``).

A file already in the cache (``~/.keras/datasets/`` by default, or ``cache_dir``/``KERAS_HOME``)
is returned without network access; otherwise it is downloaded with ``urllib``. Offline, the
download fails with Keras's ``Exception("URL fetch failure on {origin}: {errno} -- {reason}")``.
Archives are extracted with ``extract=True`` (tar and zip).
"""

import hashlib
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile

__all__ = ["get_file"]


def _hash(path, algorithm):
    h = hashlib.sha256() if algorithm in ("sha256", "auto") else hashlib.md5()
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
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"Can't parse the file name from the origin provided: '{origin}'.Please specify the `fname` argument."
            )
    if untar:
        extract = True
    fpath = os.path.join(datadir, fname)
    download = force_download or not os.path.exists(fpath)
    if not download and file_hash is not None and _hash(fpath, hash_algorithm) != file_hash:
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
        if file_hash is not None and _hash(fpath, hash_algorithm) != file_hash:
            raise ValueError(
                f"Incomplete or corrupted file detected. The {hash_algorithm} file hash does not match "
                f"the provided value of {file_hash}."
            )
    if extract:
        target = fpath + "_extracted" if not untar else fpath.rsplit(".tar", 1)[0]
        if not os.path.exists(target):
            if tarfile.is_tarfile(fpath):
                with tarfile.open(fpath) as t:
                    t.extractall(target, filter="data")
            elif zipfile.is_zipfile(fpath):
                with zipfile.ZipFile(fpath) as z:
                    z.extractall(target)
            else:
                raise ValueError(f"Could not extract {fpath}: not a tar or zip archive.")
        return target
    return fpath
