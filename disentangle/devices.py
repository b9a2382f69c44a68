"""Devices, fast paths and memory settings: what ``device`` and ``fast_path`` resolve to.

The estimators' ``device`` parameter (``"auto"``, ``"cpu"``, ``"cuda"``,
``"cuda:N"``) is read by :func:`resolve_device`, their ``fast_path`` parameter
by :func:`check_fast_path` (the names of :data:`FAST_PATHS`; ``"auto"``:
:func:`auto_fast_path`, which takes bf16 only where the device computes it
natively, :func:`native_bf16`, e.g. a CPU with one of
:data:`NATIVE_BF16_CPU_FLAGS` among its :func:`cpu_flags`), their
``inference_fast_path`` by :func:`check_inference_fast_path` (the names of
:data:`INFERENCE_PATHS`).
:func:`keep_freed_memory` makes glibc's malloc keep freed blocks for reuse,
which removes most page faults of a long CPU fit (the user guide's
performance page). Scripts that time or reproduce fits use them to resolve
and report the same settings the estimators use.
"""

from disentangle._allocator import keep_freed_memory
from disentangle._engine import resolve_device
from disentangle._fast_paths import (
           INFERENCE_PATHS,
           NATIVE_BF16_CPU_FLAGS,
           auto_fast_path,
           check_fast_path,
           check_inference_fast_path,
           cpu_flags,
           native_bf16,
           parse_fast_path,
)
from disentangle._fast_paths import PATHS as FAST_PATHS

__all__ = ["FAST_PATHS", "INFERENCE_PATHS", "NATIVE_BF16_CPU_FLAGS", "auto_fast_path",
           "check_fast_path", "check_inference_fast_path", "cpu_flags", "keep_freed_memory",
           "native_bf16", "parse_fast_path", "resolve_device"]
