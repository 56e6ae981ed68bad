"""Sends UBSan's reports to files, in every Python process of the sanitizer venv.

tools/sanitize.sh copies this into its venv with a .pth line that imports it at interpreter start
(the battery's children, mpiexec's ranks). Why: gcc's UBSan runtime (libubsan.so.1) is a library
of its own beside the preloaded libasan, and both export `__sanitizer_set_report_path`. libubsan
calls it to apply UBSAN_OPTIONS' log_path, the call binds to libasan's copy, and libubsan's own
reports keep going to stderr, which the battery sends to /dev/null. Looking the function up in
libubsan itself (dlsym on its handle) sets libubsan's own path: TG_UBSAN_LOG_PATH.<pid>.
"""

import ctypes
import os

_path = os.environ.get("TG_UBSAN_LOG_PATH")
if _path:
    try:
        ctypes.CDLL("libubsan.so.1").__sanitizer_set_report_path(_path.encode())
    except (OSError, AttributeError):  # no libubsan here: nothing to redirect
        pass
