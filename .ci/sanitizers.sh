#!/usr/bin/env bash
# Sanitizers, memory checking and fuzzing of the expmix C core.
#
#   1. ASan + UBSan (-fno-sanitize-recover=all): the C tests of csrc/tests
#      (test_core with and without OpenMP, test_vmath, test_alloc with its
#      allocation-failure hook, test_big_index, test_many: fit_many's pointer
#      tables) built with gcc;
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
# The steps run as independent jobs, SAN_JOBS (default 2, one per core) at a
# time, each into its own log; a failing job prints its log's tail.  The C
# tests run with EM_TEST_QUICK=1 (test_kinds.c trims its case grid to a
# representative subset under the sanitizers; the full grid runs in pytest's
# tests/test_c_core.py).  Any failure exits non-zero.  Run locally from the
# repository root:
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
# tools first (apt-get cannot run in parallel with itself)
command -v clang >/dev/null || apt_install clang
command -v valgrind >/dev/null || apt_install valgrind
LOAD_FUZZ_SECONDS=${LOAD_FUZZ_SECONDS:-20}
python -c "import atheris" 2>/dev/null || python -m pip install -q atheris >/dev/null 2>&1 || true
export EM_TEST_QUICK=${EM_TEST_QUICK:-1}

obj() {   # object name, flags, source: one object of the core, compiled once
    # shellcheck disable=SC2086
    $CC $SAN $2 -Icsrc -c "$3" -o "$OUT/$1.o"
}
c_test() {   # name, flags, sources or objects...
    local name=$1 flags=$2
    shift 2
    # shellcheck disable=SC2086
    $CC $SAN $flags -Icsrc "$@" -lm -o "$OUT/$name"
    "$OUT/$name" > "$OUT/$name.out" 2>&1 || { tail -40 "$OUT/$name.out"; return 1; }
    tail -1 "$OUT/$name.out"
    tail -1 "$OUT/$name.out" | grep -q " 0 failed"
}

# the C core (as setup.py builds it: the pass, the loop, the CPU-dispatched kernels)
CORE="csrc/pass.c csrc/fit.c csrc/em_dispatch.c csrc/em_dispatch_avx2.c csrc/em_dispatch_avx512.c"

HAVE_LIBFUZZER=0
if command -v clang >/dev/null && clang -fsanitize=fuzzer -x c -o "$OUT/probe" - <<<'#include <stdint.h>
#include <stddef.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n){(void)d;(void)n;return 0;}' >/dev/null 2>&1; then
    HAVE_LIBFUZZER=1
fi
FUZZ_FLAGS="-g -O1 -std=c11 -fsanitize=address,undefined -fno-sanitize-recover=all"
fobj() {   # object name, source: one core object for the libFuzzer build (clang)
    # shellcheck disable=SC2086
    clang $FUZZ_FLAGS -fsanitize=fuzzer-no-link -Icsrc -c "$2" -o "$OUT/f_$1.o"
}
fuzz_pass() {
    if [ "$HAVE_LIBFUZZER" = 1 ]; then
        echo "libFuzzer on the C pass and fit for ${FUZZ_SECONDS} s"
        # shellcheck disable=SC2086
        clang $FUZZ_FLAGS -fsanitize=fuzzer -Icsrc "$OUT"/f_*.o fuzz/fuzz_pass.c -lm -o "$OUT/fuzz_pass"
        mkdir -p "$OUT/corpus"
        cp fuzz/corpus/* "$OUT/corpus/" 2>/dev/null || true
        "$OUT/fuzz_pass" -max_total_time="$FUZZ_SECONDS" -max_len=16384 -print_final_stats=1 \
            "$OUT/corpus" > "$OUT/fuzz.out" 2>&1 || { tail -60 "$OUT/fuzz.out"; return 1; }
        grep -E "stat::number_of_executed_units|Done" "$OUT/fuzz.out" | tail -2
    else
        echo "no libFuzzer (clang) available: random-input driver under gcc ASan for ${FUZZ_SECONDS} s"
        # shellcheck disable=SC2086
        $CC $SAN -fopenmp -DFUZZ_STANDALONE -Icsrc "$OUT/pass_omp.o" "$OUT/fit_omp.o" $DISPATCH \
            fuzz/fuzz_pass.c -lm -o "$OUT/fuzz_pass"
        "$OUT/fuzz_pass" "$FUZZ_SECONDS"
    fi
}

# the JSON model loader: arbitrary bytes -> ModelFileError or a valid model
# (fuzz/fuzz_load.py); coverage-guided with atheris when it can be installed,
# else random structural mutations of valid model files
fuzz_load() {
    if python -c "import atheris" 2>/dev/null; then
        echo "atheris on the JSON loader for ${LOAD_FUZZ_SECONDS} s"
        (cd "$OUT" && python "$ROOT/fuzz/fuzz_load.py" -max_total_time="$LOAD_FUZZ_SECONDS" \
            -rss_limit_mb=4000 > "$OUT/fuzz_load.out" 2>&1) || { tail -60 "$OUT/fuzz_load.out"; return 1; }
        grep -E "^Done" "$OUT/fuzz_load.out" | tail -1
    else
        echo "no atheris: random mutations of model files for ${LOAD_FUZZ_SECONDS} s"
        python "$ROOT/fuzz/fuzz_load.py" --standalone "$LOAD_FUZZ_SECONDS"
    fi
}

valgrind_fit() {
    if ! command -v valgrind >/dev/null; then
        echo "valgrind not available (skipped)"
        return 0
    fi
    echo "memcheck of a Python fit"
    (cd "$OUT" && PYTHONMALLOC=malloc OMP_NUM_THREADS=2 valgrind --error-exitcode=1 \
        --errors-for-leak-kinds=definite --leak-check=full --show-leak-kinds=definite \
        --suppressions="$ROOT/.ci/valgrind.supp" --log-file="$OUT/valgrind.out" \
        python "$ROOT/fuzz/valgrind_fit.py") || { grep -A30 -E "Invalid|uninitialised|definitely lost in" "$OUT/valgrind.out" | head -120; return 1; }
    grep -E "ERROR SUMMARY|definitely lost:" "$OUT/valgrind.out"
}

# ---- the job pool --------------------------------------------------------
SAN_JOBS=${SAN_JOBS:-2}
FAILED=0
declare -A PIDS=() START=()
reap_one() {   # wait for any job, report it
    local pid="" rc=0 name
    wait -n -p pid "${!PIDS[@]}" || rc=$?
    name=${PIDS[$pid]}
    if [ "$rc" = 0 ]; then
        echo "== $name: clean ($(( $(date +%s) - START[$pid] )) s): $(tail -1 "$OUT/job_$name.log")"
    else
        echo "== $name: FAILED (rc $rc)"
        tail -60 "$OUT/job_$name.log"
        FAILED=1
    fi
    unset "PIDS[$pid]"
}
job() {   # name, command...
    local name=$1
    shift
    while [ "${#PIDS[@]}" -ge "$SAN_JOBS" ]; do reap_one; done
    ( set -e; "$@" ) > "$OUT/job_$name.log" 2>&1 &
    PIDS[$!]=$name
    START[$!]=$(date +%s)
}

t_all=$(date +%s)
# phase 1: the objects of the core, each compiled once (the CPU-dispatched
# kernels have no OpenMP and no allocation: one build serves every test;
# pass.c and fit.c in three variants; the clang objects of the libFuzzer
# build likewise), with valgrind alongside
if [ "$HAVE_LIBFUZZER" = 1 ]; then
    for src in $CORE; do
        b=${src##*/}
        job "o_f_${b%.c}" fobj "${b%.c}" "$src"
    done
fi
job o_avx512 obj avx512 "" csrc/em_dispatch_avx512.c
job o_avx2 obj avx2 "" csrc/em_dispatch_avx2.c
job o_disp obj disp "" csrc/em_dispatch.c
for v in "omp:-fopenmp" "ser:" "hook:-fopenmp -DEM_TEST_MALLOC_HOOK"; do
    job "o_pass_${v%%:*}" obj "pass_${v%%:*}" "${v#*:}" csrc/pass.c
    job "o_fit_${v%%:*}" obj "fit_${v%%:*}" "${v#*:}" csrc/fit.c
done
job valgrind valgrind_fit
while [ -n "$(for pid in "${!PIDS[@]}"; do case ${PIDS[$pid]} in o_*) echo x;; esac; done)" ]; do reap_one; done
DISPATCH="$OUT/disp.o $OUT/avx2.o $OUT/avx512.o"
# phase 2: the fuzzers and the C tests (longest first)
job fuzz_pass fuzz_pass
job kinds_omp c_test kinds_omp "-fopenmp" "$OUT/pass_omp.o" "$OUT/fit_omp.o" $DISPATCH csrc/tests/test_kinds.c
job trunc_far_omp c_test trunc_far_omp "-fopenmp" "$OUT/pass_omp.o" "$OUT/fit_omp.o" $DISPATCH csrc/tests/test_trunc_far.c
job core_omp c_test core_omp "-fopenmp" "$OUT/pass_omp.o" "$OUT/fit_omp.o" $DISPATCH csrc/tests/test_core.c
job core_serial c_test core_serial "" "$OUT/pass_ser.o" "$OUT/fit_ser.o" $DISPATCH csrc/tests/test_core.c
job alloc_omp c_test alloc_omp "-fopenmp -DEM_TEST_MALLOC_HOOK" "$OUT/pass_hook.o" "$OUT/fit_hook.o" $DISPATCH csrc/tests/test_alloc.c
job big_index c_test big_index "-fopenmp" "$OUT/fit_omp.o" $DISPATCH csrc/tests/test_big_index.c
job init c_test init "" csrc/init.c csrc/tests/test_init.c
job many_omp c_test many_omp "-fopenmp" "$OUT/pass_omp.o" "$OUT/fit_omp.o" $DISPATCH csrc/init.c csrc/batch.c csrc/tests/test_many.c
job init_alloc c_test init_alloc "-DEM_TEST_MALLOC_HOOK" csrc/init.c csrc/tests/test_init.c
job vmath c_test vmath "" csrc/tests/test_vmath.c
job fuzz_load fuzz_load
while [ "${#PIDS[@]}" -gt 0 ]; do reap_one; done
echo "== sanitizers, fuzzers, valgrind: $([ $FAILED = 0 ] && echo clean || echo FAILED) ($(( $(date +%s) - t_all )) s with $SAN_JOBS jobs)"
exit "$FAILED"
