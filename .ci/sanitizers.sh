#!/usr/bin/env bash
# Sanitizers, memory checking and fuzzing of the expmix C core.
#
#   1. ASan + UBSan (-fno-sanitize-recover=all): the C tests of csrc/tests
#      (test_core with and without OpenMP, test_vmath, test_alloc with its
#      allocation-failure hook, test_big_index) built with gcc;
#   2. libFuzzer + ASan + UBSan (clang) on fuzz/fuzz_pass.c for FUZZ_SECONDS
#      (default 45); without clang (and no way to install it) the same target
#      runs under gcc's ASan with a random-input driver instead;
#   2b. the JSON model loader (fuzz/fuzz_load.py) for LOAD_FUZZ_SECONDS
#      (default 20): atheris when it can be installed, else random mutations;
#   3. valgrind memcheck of a Python fit (PYTHONMALLOC=malloc; suppressions
#      for the interpreter's own reports in .ci/valgrind.supp): any error or
#      definite leak fails.  Needs expmix importable by `python` (.ci/run
#      calls this script inside its venv); skipped with a message if valgrind
#      is missing and cannot be installed.
# Any failure exits non-zero.  Run locally from the repository root:
#   bash .ci/sanitizers.sh            (FUZZ_SECONDS=10 bash .ci/sanitizers.sh: shorter)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
CC=${CC:-gcc}
SAN="-O1 -g -std=c11 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

apt_install() {   # best effort: only when root and apt-get exist
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -q "$@" >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$@" >/dev/null 2>&1; } || true
    fi
}

run_c_test() {   # name, flags, sources...
    local name=$1 flags=$2
    shift 2
    echo "== sanitizers: $name"
    # shellcheck disable=SC2086
    $CC $SAN $flags -Icsrc "$@" -lm -o "$OUT/$name"
    "$OUT/$name" > "$OUT/$name.log" 2>&1 || { tail -40 "$OUT/$name.log" || true; echo "FAILED: $name"; exit 1; }
    tail -1 "$OUT/$name.log"
    tail -1 "$OUT/$name.log" | grep -q " 0 failed" || { echo "FAILED: $name"; exit 1; }
}

# the C core (as setup.py builds it: the pass, the loop, the CPU-dispatched kernels)
CORE="csrc/pass.c csrc/fit.c csrc/em_dispatch.c csrc/em_dispatch_avx2.c csrc/em_dispatch_avx512.c"
DISPATCH="csrc/em_dispatch.c csrc/em_dispatch_avx2.c csrc/em_dispatch_avx512.c"
t0=$(date +%s)
# shellcheck disable=SC2086
run_c_test core_omp "-fopenmp" $CORE csrc/tests/test_core.c
# shellcheck disable=SC2086
run_c_test core_serial "" $CORE csrc/tests/test_core.c
run_c_test vmath "" csrc/tests/test_vmath.c
run_c_test init "" csrc/init.c csrc/tests/test_init.c
run_c_test init_alloc "-DEM_TEST_MALLOC_HOOK" csrc/init.c csrc/tests/test_init.c
# shellcheck disable=SC2086
run_c_test kinds_omp "-fopenmp" $CORE csrc/tests/test_kinds.c
# shellcheck disable=SC2086
run_c_test alloc_omp "-fopenmp -DEM_TEST_MALLOC_HOOK" $CORE csrc/tests/test_alloc.c
# shellcheck disable=SC2086
run_c_test big_index "-fopenmp" csrc/fit.c $DISPATCH csrc/tests/test_big_index.c
echo "== sanitizers: C tests clean ($(( $(date +%s) - t0 )) s)"

t0=$(date +%s)
command -v clang >/dev/null || apt_install clang
if command -v clang >/dev/null && clang -fsanitize=fuzzer -x c -o "$OUT/probe" - <<<'#include <stdint.h>
#include <stddef.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n){(void)d;(void)n;return 0;}' >/dev/null 2>&1; then
    echo "== fuzz: libFuzzer on the C pass and fit for ${FUZZ_SECONDS} s"
    clang -g -O1 -std=c11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -Icsrc $CORE fuzz/fuzz_pass.c -lm -o "$OUT/fuzz_pass"
    mkdir -p "$OUT/corpus"
    cp fuzz/corpus/* "$OUT/corpus/" 2>/dev/null || true
    "$OUT/fuzz_pass" -max_total_time="$FUZZ_SECONDS" -max_len=16384 -print_final_stats=1 \
        "$OUT/corpus" > "$OUT/fuzz.log" 2>&1 || { tail -60 "$OUT/fuzz.log" || true; echo "FAILED: fuzz_pass"; exit 1; }
    grep -E "stat::number_of_executed_units|Done" "$OUT/fuzz.log" | tail -2
else
    echo "== fuzz: no libFuzzer (clang) available: random-input driver under gcc ASan for ${FUZZ_SECONDS} s"
    $CC $SAN -DFUZZ_STANDALONE -Icsrc $CORE fuzz/fuzz_pass.c -lm -o "$OUT/fuzz_pass"
    "$OUT/fuzz_pass" "$FUZZ_SECONDS"
fi
echo "== fuzz: clean ($(( $(date +%s) - t0 )) s)"

# the JSON model loader: arbitrary bytes -> ModelFileError or a valid model
# (fuzz/fuzz_load.py); coverage-guided with atheris when it can be installed,
# else random structural mutations of valid model files
t0=$(date +%s)
LOAD_FUZZ_SECONDS=${LOAD_FUZZ_SECONDS:-20}
python -c "import atheris" 2>/dev/null || python -m pip install -q atheris >/dev/null 2>&1 || true
if python -c "import atheris" 2>/dev/null; then
    echo "== fuzz: atheris on the JSON loader for ${LOAD_FUZZ_SECONDS} s"
    (cd "$OUT" && python "$ROOT/fuzz/fuzz_load.py" -max_total_time="$LOAD_FUZZ_SECONDS" \
        -rss_limit_mb=4000 > "$OUT/fuzz_load.log" 2>&1) || { tail -60 "$OUT/fuzz_load.log" || true; echo "FAILED: fuzz_load"; exit 1; }
    grep -E "^Done" "$OUT/fuzz_load.log" | tail -1
else
    echo "== fuzz: no atheris: random mutations of model files for ${LOAD_FUZZ_SECONDS} s"
    python "$ROOT/fuzz/fuzz_load.py" --standalone "$LOAD_FUZZ_SECONDS"
fi
echo "== fuzz: JSON loader clean ($(( $(date +%s) - t0 )) s)"

t0=$(date +%s)
command -v valgrind >/dev/null || apt_install valgrind
if command -v valgrind >/dev/null; then
    echo "== valgrind: memcheck of a Python fit"
    (cd "$OUT" && PYTHONMALLOC=malloc OMP_NUM_THREADS=2 valgrind --error-exitcode=1 \
        --errors-for-leak-kinds=definite --leak-check=full --show-leak-kinds=definite \
        --suppressions="$ROOT/.ci/valgrind.supp" --log-file="$OUT/valgrind.log" \
        python "$ROOT/fuzz/valgrind_fit.py") || { grep -A30 -E "Invalid|uninitialised|definitely lost in" "$OUT/valgrind.log" | head -120 || true; echo "FAILED: valgrind"; exit 1; }
    grep -E "ERROR SUMMARY|definitely lost:" "$OUT/valgrind.log"
    echo "== valgrind: clean ($(( $(date +%s) - t0 )) s)"
else
    echo "== valgrind: not available (skipped)"
fi
