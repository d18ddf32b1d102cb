"""Four small C kernels of the decoding loop, compiled for this CPU on first use.

* ``fewrows.c``: products of 1-8 rows with a float32 or bfloat16 weight (:mod:`~polymodal.model.fewrows`), which
  MKL and oneDNN run at half the machine's read bandwidth.
* ``toplogprobs.c``: the ``k`` best columns of each row of logits and their log-probabilities in one pass
  (:mod:`~polymodal.model.ranking`), where ``log_softmax`` then ``topk`` make three.
* ``attention.c``: attention of a few new query positions over the cached keys and values
  (:mod:`~polymodal.model.stepattention`), where PyTorch's fused attention pays a parallel kernel's set-up per call.
* ``rowstep.c``: a whole decoder layer's step for 1-8 rows (:mod:`~polymodal.model.rowstep`), where
  PyTorch makes some 45 calls around the layer's six products.

They are compiled together with ``-O3 -march=native -fopenmp`` by the C compiler Python was built with (or
``$CC``) into a per-user cache (``$POLYMODAL_CACHE`` or ``~/.cache/polymodal``), under a name that hashes the
sources, the compiler and the CPU, and run on PyTorch's OpenMP threads. :func:`library` returns None, and
callers use PyTorch's operators, where there is no compiler, where OpenMP would not be PyTorch's own runtime
(a second runtime's threads would compete with PyTorch's for the cores), or where ``POLYMODAL_NATIVE=0``;
the reason is logged once.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import platform
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from importlib import resources
from pathlib import Path

import torch

__all__ = ["Library", "library", "SOURCES", "HEADERS"]

log = logging.getLogger(__name__)

#: The C sources of the library, in ``polymodal/model``.
SOURCES = ("fewrows.c", "toplogprobs.c", "attention.c", "rowstep.c")

#: The headers they include, from the same folder: part of the library's hash, copied beside the sources to build.
HEADERS = ("bf16.h",)

_FLAGS = ("-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", "-std=gnu11")
_OPENMP_RUNTIMES = ("libgomp", "libiomp", "libomp")

_long, _int, _ptr = ctypes.c_long, ctypes.c_int, ctypes.c_void_p


class Library:
    """The loaded library, its entry points typed (pointers are passed as ``Tensor.data_ptr()`` integers)."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.lib = lib
        for name, args, result in (
                ("fewrows_block", [], _long),
                ("fewrows_pack", [_ptr, _long, _long, _ptr, _int], None),
                ("fewrows_linear", [_ptr, _long, _long, _ptr, _long, _long, _ptr, _ptr, _int], _int),
                ("fewrows_pack_bf16", [_ptr, _long, _long, _ptr, _int], None),
                ("fewrows_linear_bf16", [_ptr, _long, _long, _ptr, _long, _long, _ptr, _ptr, _int, _int], _int),
                ("top_log_probs_max_k", [], _long),
                ("top_log_probs", [_ptr, _long, _long, _long, _ptr, _long, _ptr, _ptr, _int], _int),
                ("row_step_parameters", [], _long),
                ("row_step", [_ptr, _ptr, _ptr, _long, _long, _ptr, _ptr] + [_long] * 4 + [_ptr, _ptr]
                 + [_long] * 4 + [_ptr, _long, _ptr, _ptr, _int], _int),
                ("step_attention_max_keys", [], _long),
                ("step_attention_max_head_dim", [], _long),
                ("step_attention", [_ptr, _long, _long, _long] * 3 + [_ptr, _long, _long, _ptr]
                 + [_long] * 5 + [ctypes.c_float, _int, _int], _int)):
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = args, result
        #: output columns per packed block of a few-row weight
        self.block = int(lib.fewrows_block())
        #: most columns :meth:`top_log_probs` ranks per row
        self.max_k = int(lib.top_log_probs_max_k())
        self.pack = lib.fewrows_pack
        self.linear = lib.fewrows_linear
        self.pack_bf16 = lib.fewrows_pack_bf16
        self.linear_bf16 = lib.fewrows_linear_bf16
        self.top_log_probs = lib.top_log_probs
        #: most keys and largest head size :attr:`attention` takes
        self.attention_max_keys = int(lib.step_attention_max_keys())
        self.attention_max_head_dim = int(lib.step_attention_max_head_dim())
        self.attention = lib.step_attention
        self.row_step_parameters = lib.row_step_parameters
        self.row_step = lib.row_step


def _cache_dir() -> Path:
    root = os.environ.get("POLYMODAL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "polymodal")
    return Path(root) / "kernels"


def _compiler() -> list[str] | None:
    words = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    return words if words and shutil.which(words[0]) else None


def _cpu_signature() -> str:
    """What ``-march=native`` depends on: the CPU's model and flags (Linux), else the machine name."""
    try:
        info = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.machine()
    return "\n".join(dict.fromkeys(line for line in info if line.startswith(("model name", "flags"))))


def _openmp_runtimes() -> set[str]:
    """Paths of the OpenMP runtimes mapped into this process."""
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return set()
    paths = {line.split()[-1] for line in maps if len(line.split()) >= 6}
    return {p for p in paths if os.path.basename(p).startswith(_OPENMP_RUNTIMES)}


def _build(cc: list[str]) -> Path:
    """The library's path in the cache, compiled there first unless an earlier process did."""
    package = resources.files("polymodal.model")
    sources = {name: package.joinpath(name).read_bytes() for name in SOURCES + HEADERS}
    version = subprocess.run([*cc, "--version"], capture_output=True, text=True, timeout=60).stdout
    digest = hashlib.sha256(b"\0".join([*sources.values(), " ".join(cc + list(_FLAGS)).encode(),
                                        version.encode(), _cpu_signature().encode()])).hexdigest()[:16]
    target = _cache_dir() / f"polymodal-native-{digest}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        for name, text in sources.items():
            (Path(tmp) / name).write_bytes(text)
        paths = [Path(tmp) / name for name in SOURCES]
        built = Path(tmp) / target.name
        done = subprocess.run([*cc, *_FLAGS, *map(str, paths), "-o", str(built), "-lm"], capture_output=True,
                              text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cc)} failed: {done.stderr.strip()[-2000:]}")
        # a rename: another process building the same library at once finds it whole or not at all
        os.replace(built, target)
    return target


def _unavailable() -> str | None:
    if os.environ.get("POLYMODAL_NATIVE", "1") == "0":
        return "POLYMODAL_NATIVE=0"
    if not sys.platform.startswith("linux"):
        return f"the kernels are built on Linux only, not {sys.platform}"
    if "parallel backend: OpenMP" not in torch.__config__.parallel_info():
        return "PyTorch does not run its threads on OpenMP"
    if not _openmp_runtimes():
        return "no OpenMP runtime is loaded with PyTorch"
    if _compiler() is None:
        return "no C compiler (set CC)"
    return None


@functools.lru_cache(maxsize=None)
def library() -> Library | None:
    """The compiled kernels, built and loaded on first call; None where they cannot serve (the reason is
    logged)."""
    reason = _unavailable()
    if reason is None:
        try:
            loaded = Library(ctypes.CDLL(str(_build(_compiler()))))
            runtimes = _openmp_runtimes()
            if len(runtimes) == 1:
                return loaded
            reason = f"they would run on a second OpenMP runtime beside PyTorch's ({', '.join(sorted(runtimes))})"
        except (OSError, RuntimeError, AttributeError, subprocess.SubprocessError) as err:
            reason = f"building them failed: {err}"
    log.info("the decoding loop uses PyTorch's operators, not its C kernels: %s", reason)
    return None
