"""The CPU's integer-kernel class: what decides how an INT8 CPU-form file must be built and run.

ONNX Runtime's u8×s8 kernels accumulate pairs of products in int16 on x86 without VNNI
(``vpmaddubsw``) and saturate there; VNNI (``vpdpbusd``) and ARM's dot product accumulate in int32.
So one INT8 file can be exact on one CPU and wrong on another (measured: DESIGN.md, "The CPU matters").
Three classes, one name each, used by ``calibrate --cpu-isa``, the runners, bench and deploy:

* ``vnni``  — x86 with AVX-512 VNNI or AVX-VNNI: u8 activations × s8 weights, exact int32 accumulation.
* ``x86``   — x86-64 without VNNI (AVX2, AVX-512 without VNNI, older): weights in 7 bits (``reduce_range``)
  so the int16 pair sums cannot saturate.
* ``arm64`` — ARM64 (dot-product instructions accumulate in int32).

``unknown`` is any other machine, and the class of INT8 files and caches made before classes existed.
``OBJX_HOST_ISA`` overrides the detected host class (to reproduce another machine's choices).
"""

from __future__ import annotations

import os
import platform
from enum import Enum
from functools import lru_cache
from pathlib import Path

from objectix_edge.errors import InputError

HOST_ISA_ENV = "OBJX_HOST_ISA"
_X86 = {"x86_64", "amd64", "i386", "i686", "x86"}
_ARM64 = {"aarch64", "arm64", "armv8", "armv8l"}


class CpuIsa(str, Enum):
    VNNI = "vnni"
    X86 = "x86"
    ARM64 = "arm64"
    UNKNOWN = "unknown"


def _cpu_flags() -> set[str]:
    """The feature flags of /proc/cpuinfo (x86 ``flags``, ARM ``Features``); empty where it does not exist."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return set()
    for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            return set(value.split())
    return set()


def _cpuid_features() -> dict[str, bool]:
    """numpy's own CPUID probe (what this process can execute, also under an emulator or a VM that masks
    features /proc/cpuinfo still lists); empty if this numpy does not expose it."""
    import importlib

    for module in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):  # numpy 2, numpy 1
        try:
            return dict(getattr(importlib.import_module(module), "__cpu_features__", {}))
        except ImportError:
            continue
    return {}


@lru_cache(maxsize=1)
def _detected() -> tuple[CpuIsa, str]:
    machine = platform.machine().lower()
    flags, cpuid = _cpu_flags(), _cpuid_features()

    def has(cpuid_name: str, flag: str) -> bool:
        return cpuid.get(cpuid_name, flag in flags)

    if machine in _X86:
        if has("AVX512VNNI", "avx512_vnni"):
            return CpuIsa.VNNI, "AVX-512 VNNI"
        if "avx_vnni" in flags and has("AVX2", "avx2"):  # numpy has no AVX-VNNI probe
            return CpuIsa.VNNI, "AVX-VNNI"
        # Where nothing proves VNNI the x86 class is chosen: its 7-bit weights are safe on every x86 CPU.
        if has("AVX512F", "avx512f"):
            return CpuIsa.X86, "AVX-512 without VNNI"
        return CpuIsa.X86, "AVX2" if has("AVX2", "avx2") else "SSE/AVX (no AVX2)"
    if machine in _ARM64:
        return CpuIsa.ARM64, "NEON dot-product" if has("ASIMDDP", "asimddp") else "NEON"
    return CpuIsa.UNKNOWN, machine or "unknown"


def parse_isa(value: str, source: str = "--cpu-isa") -> CpuIsa:
    """A class name (vnni, x86, arm64, unknown) or a one-line error listing them."""
    try:
        return CpuIsa(value.strip().lower())
    except ValueError:
        names = ", ".join(c.value for c in CpuIsa if c != CpuIsa.UNKNOWN)
        raise InputError(f"{source}: unknown CPU ISA class {value!r}; use one of {names}") from None


def host_isa() -> CpuIsa:
    """This machine's class (or ``OBJX_HOST_ISA``)."""
    forced = os.environ.get(HOST_ISA_ENV, "").strip()
    if forced:
        return parse_isa(forced, HOST_ISA_ENV)
    return _detected()[0]


def vector_isa() -> str:
    """The widest integer-dot-product extension this CPU has, in words (e.g. 'AVX-512 VNNI', 'AVX2')."""
    return _detected()[1]


def build_isa(requested: CpuIsa | None) -> CpuIsa:
    """The class a CPU form is built for: ``requested``, else this host's; an unknown host gets the
    ``x86`` options (7-bit weights never saturate, on any CPU)."""
    if requested is not None:
        return requested
    host = host_isa()
    return CpuIsa.X86 if host == CpuIsa.UNKNOWN else host


def isa_option(value: str | None) -> CpuIsa | None:
    """A ``--cpu-isa`` value: None keeps the caller's default; ``auto`` is this machine's class."""
    if value is None:
        return None
    return build_isa(None) if value.strip().lower() == "auto" else parse_isa(value)
