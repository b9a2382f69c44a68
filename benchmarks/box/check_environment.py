"""Print the versions a GPU run depends on; exit 1 where a requirement is missing or out of range.

The requirements are read from the installed distribution's metadata
(``disentangle-learn``, i.e. ``pyproject.toml``'s ``dependencies``), so the
supported ranges are stated in one place. Printed: Python, torch, its CUDA,
the GPU, numpy, scikit-learn, joblib, skorch, then every other requirement::

    python benchmarks/box/check_environment.py [--device cuda]

``--device cuda`` also fails where torch sees no GPU.
"""

import argparse
import platform
import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.version import Version

DISTRIBUTION = "disentangle-learn"
#: Printed first, in this order.
FIRST = ["torch", "numpy", "scikit-learn", "joblib", "skorch"]


def check(distribution=DISTRIBUTION):
    """(name, installed version or None, specifier, ok) for each requirement of ``distribution``
    that applies here (environment markers evaluated; extras left out)."""
    rows = []
    for line in metadata.requires(distribution) or []:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            rows.append((requirement.name, None, str(requirement.specifier), False))
            continue
        ok = requirement.specifier.contains(Version(version), prereleases=True)
        rows.append((requirement.name, version, str(requirement.specifier), ok))
    order = {name: i for i, name in enumerate(FIRST)}
    return sorted(rows, key=lambda row: order.get(row[0], len(order)))


def describe_torch(device):
    """Lines on torch's CUDA and the GPU; an error message where ``device`` needs CUDA and
    torch sees none (else None)."""
    import torch

    cuda = torch.version.cuda or "none (a CPU build)"
    lines = [f"torch CUDA: {cuda}, cuDNN {torch.backends.cudnn.version()}"]
    if torch.cuda.is_available():
        lines.append(f"GPU: {torch.cuda.get_device_name(0)}, "
                     f"{torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB")
    else:
        lines.append("GPU: none seen by torch")
        if device.startswith("cuda"):
            return lines, "--device cuda, but torch sees no GPU (torch.cuda.is_available())"
    return lines, None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    print(f"Python {platform.python_version()} ({sys.executable})")
    try:
        rows = check()
    except metadata.PackageNotFoundError:
        print(f"error: {DISTRIBUTION} is not installed here (pip install --no-index --no-deps "
              "--no-build-isolation .)", file=sys.stderr)
        return 1
    for name, version, specifier, ok in rows:
        print(f"{name} {version or 'MISSING'} (supported: {specifier or 'any'})"
              + ("" if ok else "  <-- NOT SUPPORTED"))
    bad = [f"{name} {version or 'missing'} (needs {specifier})"
           for name, version, specifier, ok in rows if not ok]
    if bad:
        print("error: " + "; ".join(bad) + ". Install the supported versions (the offline "
              "install: docs, 'Running on GPU'), then run again.", file=sys.stderr)
        return 1
    lines, error = describe_torch(args.device)
    print("\n".join(lines))
    if error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
