"""Products of a few rows with a float32 weight, by a small C kernel compiled for this CPU on first use.

A beam-search step multiplies its few hypotheses (5 at batch 1) by every decoder weight. At 2-8 rows MKL's and
oneDNN's GEMMs read a 512 x 512 float32 weight at 10-16 GB/s, half of what one row's products reach, so
beam search spends a third of its time there. The kernel (``fewrows.c``) streams a copy of the weight packed in
blocks of 64 output columns once, each row's 64 partial sums held in registers: 5 rows x 512 x 512 in 46 against
76 us for oneDNN, 2048 -> 512 in 160 against 240 (2 threads, weights out of cache; ``benchmarks/README.md``).

It is compiled with ``-O3 -march=native -fopenmp`` by the C compiler Python was built with (or ``$CC``) into a
per-user cache (``$POLYMODAL_CACHE`` or ``~/.cache/polymodal``) under a name that hashes the source, the compiler
and the CPU, and runs on PyTorch's OpenMP threads. :func:`kernel` returns None, and callers use PyTorch's
products, where there is no compiler, where OpenMP would not be PyTorch's own runtime, or where
``POLYMODAL_NATIVE=0``; the reason is logged once.
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
from torch import Tensor

__all__ = ["FewRowsWeight", "kernel", "MIN_ROWS", "MAX_ROWS"]

log = logging.getLogger(__name__)

#: Fewest rows the kernel is used for: a single row's product on row blocks (see
#: :class:`~polymodal.model.stepping.LinearT`) is as fast, and needs no packed copy.
MIN_ROWS = 2

#: Most rows the kernel takes; at 8 it is still 10-15% faster than oneDNN, beyond that arithmetic bounds it.
MAX_ROWS = 8

_FLAGS = ("-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", "-std=gnu11")
_OPENMP_RUNTIMES = ("libgomp", "libiomp", "libomp")


class _Kernel:
    """The loaded library with its two entry points typed."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.lib = lib
        lib.fewrows_block.restype = ctypes.c_long
        lib.fewrows_max_rows.restype = ctypes.c_long
        lib.fewrows_pack.argtypes = [ctypes.c_void_p, ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_int]
        lib.fewrows_pack.restype = None
        lib.fewrows_linear.argtypes = [ctypes.c_void_p, ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                                       ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        lib.fewrows_linear.restype = ctypes.c_int
        self.block = int(lib.fewrows_block())
        self.pack = lib.fewrows_pack
        self.linear = lib.fewrows_linear
        if int(lib.fewrows_max_rows()) != MAX_ROWS:
            raise RuntimeError(f"the library takes {lib.fewrows_max_rows()} rows, this module {MAX_ROWS}")


def _cache_dir() -> Path:
    root = os.environ.get("POLYMODAL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "polymodal")
    return Path(root) / "kernels"


def _compiler() -> list[str] | None:
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    words = shlex.split(cc)
    return words if words and shutil.which(words[0]) else None


def _cpu_signature() -> str:
    """What ``-march=native`` depends on: the CPU's model and flags (Linux), else the machine name."""
    try:
        info = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.machine()
    keep = [line for line in info if line.startswith(("model name", "flags"))]
    return "\n".join(dict.fromkeys(keep))


def _openmp_runtimes() -> set[str]:
    """Paths of the OpenMP runtimes mapped into this process."""
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return set()
    paths = {line.split()[-1] for line in maps if len(line.split()) >= 6}
    return {p for p in paths if os.path.basename(p).startswith(_OPENMP_RUNTIMES)}


def _build(cc: list[str]) -> Path:
    source = resources.files("polymodal.model").joinpath("fewrows.c").read_bytes()
    version = subprocess.run([*cc, "--version"], capture_output=True, text=True, timeout=60).stdout
    digest = hashlib.sha256(b"\0".join([source, " ".join(cc + list(_FLAGS)).encode(), version.encode(),
                                        _cpu_signature().encode()])).hexdigest()[:16]
    target = _cache_dir() / f"fewrows-{digest}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        src = Path(tmp) / "fewrows.c"
        src.write_bytes(source)
        built = Path(tmp) / target.name
        done = subprocess.run([*cc, *_FLAGS, str(src), "-o", str(built)], capture_output=True, text=True,
                              timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cc)} failed: {done.stderr.strip()[-2000:]}")
        # a rename: another process building the same library at once finds it whole or not at all
        os.replace(built, target)
    return target


@functools.lru_cache(maxsize=None)
def kernel() -> _Kernel | None:
    """The compiled kernel, built and loaded on first call; None where it cannot serve (the reason is logged)."""
    reason = _unavailable()
    if reason is None:
        try:
            loaded = _Kernel(ctypes.CDLL(str(_build(_compiler()))))
            after = _openmp_runtimes()
            if len(after) > 1:
                reason = f"it would run on a second OpenMP runtime beside PyTorch's ({', '.join(sorted(after))})"
            else:
                return loaded
        except (OSError, RuntimeError, subprocess.SubprocessError) as err:
            reason = f"building it failed: {err}"
    log.info("few-row products use PyTorch's kernels: %s", reason)
    return None


def _unavailable() -> str | None:
    if os.environ.get("POLYMODAL_NATIVE", "1") == "0":
        return "POLYMODAL_NATIVE=0"
    if not sys.platform.startswith("linux"):
        return f"the kernel is built on Linux only, not {sys.platform}"
    if "parallel backend: OpenMP" not in torch.__config__.parallel_info():
        return "PyTorch does not run its threads on OpenMP"
    if not _openmp_runtimes():
        return "no OpenMP runtime is loaded with PyTorch"
    if _compiler() is None:
        return "no C compiler (set CC)"
    return None


class FewRowsWeight:
    """A float32 CPU ``[out, in]`` weight (and bias) packed for :func:`kernel`: ``x @ weight.T + bias`` for
    ``x`` of :data:`MIN_ROWS` to :data:`MAX_ROWS` rows. Build it with :meth:`of`."""

    def __init__(self, lib: _Kernel, packed: Tensor, bias: Tensor | None, out: int, inp: int) -> None:
        self._lib, self.packed, self.bias, self.out, self.inp = lib, packed, bias, out, inp

    @classmethod
    def of(cls, weight: Tensor, bias: Tensor | None) -> "FewRowsWeight | None":
        """Pack ``weight`` (contiguous), or None where the kernel is unavailable or does not take it."""
        lib = kernel()
        if lib is None or weight.dtype != torch.float32 or weight.device.type != "cpu" or weight.dim() != 2:
            return None
        out, inp = weight.shape
        weight = weight.contiguous()
        packed = torch.empty(-(-out // lib.block) * inp * lib.block, dtype=torch.float32)
        lib.pack(weight.data_ptr(), out, inp, packed.data_ptr(), torch.get_num_threads())
        if bias is not None:
            bias = bias.detach().to(torch.float32).contiguous()
        return cls(lib, packed, bias, out, inp)

    def __call__(self, x: Tensor) -> Tensor:
        """``x`` (``[n, in]`` float32, ``MIN_ROWS <= n <= MAX_ROWS``) times the weight: ``[n, out]``."""
        n = x.shape[0]
        if x.dim() != 2 or x.shape[1] != self.inp or not MIN_ROWS <= n <= MAX_ROWS:
            raise ValueError(f"the few-row product takes [{MIN_ROWS}..{MAX_ROWS}, {self.inp}], got {tuple(x.shape)}")
        if x.stride(-1) != 1 or x.dtype != torch.float32:
            x = x.float().contiguous()
        y = torch.empty(n, self.out, dtype=torch.float32)
        status = self._lib.linear(x.data_ptr(), n, x.stride(0), self.packed.data_ptr(), self.out, self.inp,
                                  None if self.bias is None else self.bias.data_ptr(), y.data_ptr(),
                                  torch.get_num_threads())
        if status:
            raise RuntimeError(f"the few-row kernel refused {n} rows")
        return y
