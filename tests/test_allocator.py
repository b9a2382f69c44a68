import subprocess
import sys

import pytest

from disentangle._allocator import SETTINGS

#: Minor page faults of 10 "iterations" that each hold ten 8 MiB activations, then free them.
CHURN = """
import resource, sys, torch
from disentangle._allocator import keep_freed_memory
if sys.argv[1] == "tuned":
    assert keep_freed_memory()
def iteration():
    return [torch.empty(2 * 2**20).fill_(1.0) for _ in range(10)]
iteration()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    iteration()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def minor_faults(mode):
    out = subprocess.run([sys.executable, "-c", CHURN, mode], check=True, capture_output=True,
                         text=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc settings")
def test_freed_blocks_are_reused_instead_of_faulted_in_again():
    # Without the settings much of the 80 MiB freed at the end of an iteration goes back to the
    # kernel (mmap, or a trimmed heap) and faults in again in the next one (how much depends on
    # glibc's dynamic thresholds: 22,000 to 204,000 faults here, with and without OMP_NUM_THREADS
    # in the environment); with them the freed blocks are reused.
    default, tuned = minor_faults("default"), minor_faults("tuned")
    assert tuned < 5000
    assert default > 5 * tuned


def test_settings_name_their_environment_variables():
    assert [name for _, _, name in SETTINGS] == [
        "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"]
