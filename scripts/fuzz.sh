#!/usr/bin/env bash
# Fuzzes ConvNet's readers of untrusted files with libFuzzer and AddressSanitizer: IDX, CIFAR-10,
# PNG/JPEG, HDF5 model files and checkpoints, Keras JSON configs (Fuzz/Sources/ConvNetFuzz).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     SECONDS per target (default 60); TARGET: idx cifar image hdf5 keras-json
#
# CI runs one minute per target. For a longer search, e.g. an hour each:  scripts/fuzz.sh 3600
# FUZZ_IGNORE_LIBHDF5_MEMORY_ERRORS=1 (CI) ignores AddressSanitizer's reports inside libhdf5's own
# libc calls (Fuzz/libhdf5-memory-errors.supp: a known over-read in libhdf5 1.10.8 that ConvNet
# cannot prevent); crashes, hangs and memory blow-ups there are still findings.
# The corpus grows in .build-fuzz/corpus/<target> (kept between runs); seeds come from Fuzz/Seeds
# and the test fixtures. A finding (crash, sanitizer report, leak, timeout, out-of-memory) is
# written to .build-fuzz/findings/<target>-*, and the script exits 1; reproduce it with
#   CONVNET_FUZZ_TARGET=<target> .build-fuzz/release/ConvNetFuzz .build-fuzz/findings/<file>
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(idx cifar image hdf5 keras-json)

flags=(-c release --package-path Fuzz --scratch-path .build-fuzz
       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
       -Xcc -fsanitize=fuzzer-no-link,address)
mkdir -p .build-fuzz
start=$(date +%s)
# A failed build stops here: running the fuzzer left by an earlier build would test old code.
if ! swift build "${flags[@]}" --product ConvNetFuzz >.build-fuzz/build.log 2>&1; then
    grep -E "error" .build-fuzz/build.log | head -20 >&2
    echo "fuzz.sh: the fuzzer did not build (the whole log: .build-fuzz/build.log)" >&2
    exit 1
fi
fuzzer="$(swift build "${flags[@]}" --show-bin-path)/ConvNetFuzz"
[ -x "$fuzzer" ] || { echo "fuzz.sh: the fuzzer did not build" >&2; exit 1; }
echo "built the fuzzer in $(( $(date +%s) - start )) s"

mkdir -p .build-fuzz/findings
found=0
asan_options=detect_leaks=0:allocator_may_return_null=1
[ "${FUZZ_IGNORE_LIBHDF5_MEMORY_ERRORS:-0}" = 1 ] && asan_options+=":suppressions=$PWD/Fuzz/libhdf5-memory-errors.supp"
for target in "${targets[@]}"; do
    corpus=.build-fuzz/corpus/$target
    mkdir -p "$corpus"
    seeds=(Fuzz/Seeds/$target)
    case $target in
        hdf5) seeds+=(Tests/ConvNetTests/Fixtures/keras) ;;
        image) seeds+=(examples/images) ;;
    esac
    log=.build-fuzz/$target.log
    # -timeout: one input may take 10 s; -rss_limit_mb: the process may use 2 GB, and one malloc
    # may ask for at most that (the harness lowers ConvNet's allocation limit to 256 MB). Leak
    # checking is off: Foundation's Data(contentsOf:) leaks 4 KiB reading an empty file
    # (swift-foundation, Swift 6.3), which would stop every run. allocator_may_return_null: a
    # malloc of an impossible size (beyond AddressSanitizer's 1 TB) returns NULL, as glibc's does,
    # instead of aborting: libhdf5 sizes metadata reads from the file (an object header declaring
    # 2^51 bytes) and reports the failed allocation as an error; Swift code still traps on NULL.
    if ASAN_OPTIONS=$asan_options CONVNET_FUZZ_TARGET=$target "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -detect_leaks=0 \
        -print_final_stats=1 -artifact_prefix=".build-fuzz/findings/$target-" "$corpus" "${seeds[@]}" >"$log" 2>&1; then
        runs=$(grep -oE "^Done [0-9]+ runs in [0-9]+ second" "$log" | tail -1)
        printf '%-11s no finding: %s (corpus: %s inputs)\n' "$target" "${runs:-?}" "$(ls "$corpus" | wc -l)"
    else
        found=1
        printf '%-11s FINDING, see %s:\n' "$target" "$log"
        grep -E "ERROR|==[0-9]+==|SUMMARY|Test unit written" "$log" | head -8
    fi
done
exit $found
