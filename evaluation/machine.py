"""What machine a benchmark ran on, printed first by every benchmark: the CPU's model, its SIMD
flags that decide the int8 runtime's kernels (AVX-512 VNNI, AVX-VNNI, AMX against AVX2 only),
the cores, the memory, the load, and any setting that narrows the instruction set (an AVX2-only
host emulated on a newer one: ``ONEDNN_MAX_CPU_ISA``, ``ATEN_CPU_CAPABILITY``)."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import psutil

# the flags of /proc/cpuinfo that matter to the embedding runtimes, in the order printed
SIMD_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile", "amx_int8")
# environment variables that narrow what torch's kernels may use
ISA_LIMITS = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")


def _cpuinfo_field(name: str) -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(name):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def machine_facts() -> dict[str, Any]:
    flags = set(_cpuinfo_field("flags").split())
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": _cpuinfo_field("model name") or platform.processor(),
        "simd": [flag for flag in SIMD_FLAGS if flag in flags],
        "isa_limits": {name: os.environ[name] for name in ISA_LIMITS if name in os.environ},
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),  # numpy's kernels (set on some hosts)
        "memory_gb": psutil.virtual_memory().total / 2**30,
        "load": os.getloadavg(),
    }


def host_kind(facts: dict[str, Any] | None = None) -> str:
    """``avx512-vnni``, ``avx-vnni`` or ``avx2``: what decides the int8 kernels' speed (an
    ISA limit in the environment counts as the host it emulates)."""
    facts = facts or machine_facts()
    limit = facts["isa_limits"].get("ONEDNN_MAX_CPU_ISA", "").lower()
    if limit.startswith("avx2"):
        return "avx2"
    if "avx512_vnni" in facts["simd"]:
        return "avx512-vnni"
    if "avx_vnni" in facts["simd"]:
        return "avx-vnni"
    return "avx2"


def describe_machine(facts: dict[str, Any] | None = None) -> str:
    facts = facts or machine_facts()
    limits = ", ".join(f"{k}={v}" for k, v in facts["isa_limits"].items())
    return (
        f"machine: {facts['cpu']}; {facts['usable_cores']}/{facts['cores']} cores; "
        f"{facts['memory_gb']:.0f} GB; flags {' '.join(facts['simd']) or 'none of ' + ', '.join(SIMD_FLAGS)}; "
        f"host kind {host_kind(facts)}"
        + (f" (emulated: {limits})" if limits else "")
        + (f"; OPENBLAS_CORETYPE={facts['openblas_coretype']}" if facts["openblas_coretype"] else "")
        + f"; load {facts['load'][0]:.2f} {facts['load'][1]:.2f} {facts['load'][2]:.2f}"
    )
