#!/usr/bin/env bash
# One visit to a GPU machine with no network: the paper's schedule moved forward in one command
# that ends before a wall-clock deadline (user guide: "Running on GPU").
#
#   bash benchmarks/gpu_run.sh [--deadline 540] [--out DIR] [--wheels .whl] [--seeds 5]
#   bash benchmarks/gpu_run.sh --cpu-dry-run     # the same on a CPU machine, in a few minutes
#
# In order, all within --deadline seconds of the start (default 540, 9 minutes):
#   1. installs the carried wheels (--wheels, default .whl: `make wheels` fills it on a connected
#      machine) and the package from this tree, offline (pip --no-index --no-deps, --target a
#      folder put on PYTHONPATH: the system site-packages may be read-only), never another torch;
#   2. prints the versions (Python, torch, CUDA, GPU, numpy, scikit-learn, joblib, skorch, ...)
#      and stops at once where one is missing or outside pyproject.toml's ranges;
#   3. renders dSprites (cached), runs the tests that need CUDA (pytest -m cuda; skipped, with
#      the reason, without CUDA; a quarter of the time left, 150 s at most);
#   4. times each fast path (benchmarks/throughput.py --variants --roofline: images/s and the
#      fraction of a float32 and a bfloat16 matmul's FLOP/s; a third of the time left, 150 s
#      at most);
#   (a failure of 3 or 4 is printed before the pace table, and the exit status is 1: the
#   training still runs);
#   5. resumes benchmarks/reproduce.py from benchmarks/checkpoints (committed by the visit before,
#      if any) with the fastest path, trains until the deadline minus --reserve seconds (writing
#      the compact checkpoints and bundling them), and ships the compact checkpoints;
#   6. writes to the output folder (--out, default $OUT) at most 8 files of at most 16 MiB:
#      gpu_run.log, pace.md, progress.json, throughput.json and checkpoints.tar.NN (the compact
#      checkpoints, split in 15 MiB parts; `cat checkpoints.tar.* | tar -x -C benchmarks`
#      restores benchmarks/checkpoints, to commit for the next visit);
#   7. prints, last, the pace table: iterations reached per model, the pace, and the wall time
#      left to the full schedule at that pace.
#
# --cpu-dry-run rebuilds the box on this machine: a fresh virtual environment (--venv, default
# .venv-box) of Python 3.12 where this machine has one (else its python3; printed), with the
# box's packages (benchmarks/box/packages.txt: torch 2.11, the newest numpy served, and the
# oldest supported versions of the rest) from the package index, the wheels of
# benchmarks/box/wheels.txt downloaded into --wheels if missing, then every step above offline,
# with --device cpu and smoke sizes. Its last line starts with "dry run ok".
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
START=$(date +%s)
DEADLINE=540 RESERVE=90 SEEDS=5 DRY=0 PY=python3
WHEELS=$REPO/.whl VENV=$REPO/.venv-box OUTDIR=${OUT:-}
SITE=${SITE:-${TMPDIR:-/tmp}/disentangle-site}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "gpu_run.sh: error: $*" >&2; exit 1; }
elapsed() { echo $(($(date +%s) - START)); }
left() { echo $((DEADLINE - $(elapsed))); }
step() { echo; echo "== [$(elapsed) s] $*"; }
limit() { local share=$(($(left) / $1)); echo $((share < 1 ? 1 : share < 150 ? share : 150)); }  # seconds

while (($#)); do
    case $1 in
        --deadline) DEADLINE=$2; shift 2 ;;
        --reserve) RESERVE=$2; shift 2 ;;
        --out) OUTDIR=$2; shift 2 ;;
        --wheels) WHEELS=$2; shift 2 ;;
        --seeds) SEEDS=$2; shift 2 ;;
        --python) PY=$2; shift 2 ;;
        --venv) VENV=$2; shift 2 ;;
        --cpu-dry-run) DRY=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument $1 (--help lists them)" ;;
    esac
done
WHEELS=$(realpath -m "$WHEELS")
if ((DRY)); then
    if [[ -z $OUTDIR ]]; then
        OUTDIR=$REPO/gpu_run_output
        rm -rf "$OUTDIR"
    fi
    DEVICE=cpu SITE=$(realpath -m "$VENV")/site
else
    DEVICE=cuda
fi
[[ -n $OUTDIR ]] || die "no output folder: pass --out DIR (or set OUT)"
mkdir -p "$OUTDIR"
OUTDIR=$(realpath "$OUTDIR")
[[ -z $(ls -A "$OUTDIR") ]] || die "the output folder $OUTDIR is not empty"
WORK=$(mktemp -d)
exec > >(tee "$OUTDIR/gpu_run.log") 2>&1
cd "$REPO"
echo "gpu_run.sh: deadline ${DEADLINE} s, device $DEVICE, output $OUTDIR, work $WORK"

# The dry run's box: Python 3.12 if there is one here, the box's packages from the index.
find_python312() {  # on the PATH, else pyenv's newest 3.12, else nothing
    local candidate root
    for candidate in python3.12 $( (root=$(pyenv root 2>/dev/null) && ls -d \
            "$root"/versions/3.12*/bin/python3.12 | sort -rV) 2>/dev/null); do
        if "$candidate" --version >/dev/null 2>&1; then
            command -v "$candidate"
            return
        fi
    done
}

make_box() {
    local python
    python=$(find_python312)
    if [[ -z $python ]]; then
        python=python3
        echo "no Python 3.12 on this machine: the box's numpy 2.5 needs it; using $python"
    fi
    echo "dry-run box: $("$python" --version) ($python) in $VENV"
    local stamp="$VENV/.box-packages"
    if ! cmp -s benchmarks/box/packages.txt "$stamp" 2>/dev/null; then
        rm -rf "$VENV"
        "$python" -m venv "$VENV"
        "$VENV/bin/python" -m pip install -q --upgrade -r benchmarks/box/packages.txt 2>&1 \
            | { grep -v "is ignored: it is neither a file nor a directory" || true; }
        cp benchmarks/box/packages.txt "$stamp"
    fi
    PY=$VENV/bin/python
    if ! ls "$WHEELS"/*.whl >/dev/null 2>&1; then  # the connected machine's step
        make -s wheels PYTHON="$PY" WHEELS="$WHEELS"
    fi
}

if ((DRY)); then
    step "0. the box, rebuilt"
    make_box
fi

step "1. offline install: $WHEELS and this tree into $SITE"
ls "$WHEELS"/*.whl >/dev/null 2>&1 || die "no wheels in $WHEELS: run 'make wheels' on a \
connected machine and carry the folder"
rm -rf "$SITE"
offline_pip() { PIP_CONFIG_FILE=/dev/null "$PY" -m pip --isolated install -q --no-index \
    --no-deps --no-compile --no-cache-dir --target "$SITE" "$@"; }
offline_pip "$WHEELS"/*.whl
offline_pip --no-build-isolation "$REPO"
rm -rf "$REPO/build"
export PYTHONPATH=$SITE PYTHONUNBUFFERED=1

step "2. versions"
"$PY" benchmarks/box/check_environment.py --device "$DEVICE" \
    || die "the environment is not a supported one (above); nothing was run"

"$PY" -c 'import time; from disentangle.datasets import DSprites; start = time.time()
print(f"dSprites: {DSprites().images.shape} ready in {time.time() - start:.0f} s")'

# A failed test or timing is reported at the end: training, the visit's purpose, goes on.
FAILED=()
step "3. tests that need CUDA"
LIMIT=$(limit 4)  # a quarter of the time left, 150 s at most
timeout "$LIMIT" "$PY" -m pytest -q -p no:cacheprovider -p no:warnings -rs -m cuda tests \
    || FAILED+=("CUDA tests (exit $?: 124 is the ${LIMIT}-s limit)")

step "4. fast paths, timed"
if ((DRY)); then
    timing=(--smoke --variants bf16 channels_last)
else
    timing=(--iterations 200 --repeats 2 --variants bf16 channels_last cuda_graphs compile)
fi
LIMIT=$(limit 3)  # a third of the time left, 150 s at most
timeout "$LIMIT" "$PY" benchmarks/throughput.py --device "$DEVICE" --models --roofline \
    --json "$WORK/throughput.json" "${timing[@]}" \
    || FAILED+=("fast-path timing (exit $?: 124 is the ${LIMIT}-s limit; paths timed are kept)")
FAST="" PACE=1
if [[ -f $WORK/throughput.json ]]; then
    cp "$WORK/throughput.json" "$OUTDIR/"
    read -r FAST PACE < <("$PY" - "$WORK/throughput.json" <<'EOF'
import json, sys
paths = json.load(open(sys.argv[1]))["fast_paths"]
best = max(paths, key=lambda name: paths[name]["images_per_s"])
print("" if best == "default" else best, paths[best]["images_per_s"] / 64)
EOF
    )
fi
echo "training with fast path ${FAST:-none (the default step)}: $PACE iterations/s alone"

step "5. the paper's schedule, resumed from benchmarks/checkpoints"
TRAIN=$(($(left) - RESERVE))
((TRAIN > 0)) || die "no time left to train (--deadline $DEADLINE, --reserve $RESERVE)"
if ((DRY)); then
    schedule=(--smoke --seeds 2 --jobs 1)
else
    schedule=(--seeds "$SEEDS")
fi
timeout $(($(left) - 10)) "$PY" benchmarks/reproduce.py --device "$DEVICE" "${schedule[@]}" \
    --deadline "$TRAIN" --fast-path $FAST --pace "$PACE" --out "$WORK/reproduce" \
    --ship "$WORK/checkpoints" --resume-from benchmarks/checkpoints
cp "$WORK/reproduce/pace.md" "$WORK/reproduce/progress.json" "$OUTDIR/"

step "6. the output folder"
tar -C "$WORK" -cf - checkpoints | split -b 15m -d -a 2 - "$OUTDIR/checkpoints.tar."
rm -rf "$WORK"
n_files=$(find "$OUTDIR" -type f | wc -l)
too_big=$(find "$OUTDIR" -type f -size +16M)
ls -l "$OUTDIR"
((n_files <= 8)) || die "$n_files files in $OUTDIR: at most 8 come back"
[[ -z $too_big ]] || die "over 16 MiB: $too_big"

step "7. the pace"
((${#FAILED[@]} == 0)) || printf 'FAILED: %s\n' "${FAILED[@]}"
cat "$OUTDIR/pace.md"
echo "done in $(elapsed) s of the ${DEADLINE}-s deadline"
((${#FAILED[@]} == 0)) || exit 1
if ((DRY)); then
    echo "dry run ok ($(elapsed) s; $("$PY" -c 'import platform, numpy, torch
print(f"Python {platform.python_version()}, torch {torch.__version__}, numpy {numpy.__version__}")'))"
fi
