"""Machine facts printed beside every figure: a speed number means nothing without the CPU, cores and versions."""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

PACKAGES = ("torch", "transformers", "faiss-cpu", "scikit-learn", "numpy", "sapbert-ko-en")


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    """Return the machine's total memory in GiB (Linux /proc/meminfo), else None."""
    meminfo = Path("/proc/meminfo")
    if not meminfo.is_file():
        return None
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return None


def git_commit() -> str:
    """Return the short commit of the working tree the benchmark ran from, or "" outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip()


def machine_facts() -> dict[str, str]:
    """Return CPU model, usable cores, memory, GPU, Python and library versions, commit, date and command."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    facts = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join(["sapbert", *sys.argv[1:]])
        if sys.argv and sys.argv[0].endswith("sapbert")
        else shlex.join(sys.argv),
        "cpu": cpu_model(),
        "cores": f"{usable} usable of {os.cpu_count()}",
        "memory": f"{memory_gib():.1f} GiB" if memory_gib() else "unknown",
        "platform": platform.platform(),
        "python": platform.python_version(),
        "commit": git_commit(),
    }
    for package in PACKAGES:
        try:
            facts[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            facts[package] = "not installed"
    try:
        import torch

        facts["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
        facts["torch threads"] = str(torch.get_num_threads())
        import faiss

        facts["faiss threads"] = str(faiss.omp_get_max_threads())
    except ImportError as error:
        facts["gpu"] = f"unknown ({error.name} missing)"
    return facts
