#!/usr/bin/env bash
# The test suites where memory and thread errors matter, built with AddressSanitizer and
# ThreadSanitizer (each in its own build folder, so the ordinary build is untouched).
#
#   scripts/sanitizers.sh [address] [thread]      (default: both)
#
# AddressSanitizer: the readers of untrusted files and what writes files (HDF5, Keras files,
# checkpoints, IDX/gzip, CIFAR, PNG/JPEG, SIGNS sets, the hostile-input cases, atomic writes).
# ThreadSanitizer: the code that runs on several threads (the parallel kernels through the
# trainer and the fast/reference agreement tests, the prefetching pipeline, the thread pool,
# callbacks during training, data-parallel training's gradient all-reduce in one process, two
# models trained at once on their own threads, the lock itself).
# The whole suite under both would take longer than CI allows on 2 cores. No TSan suppressions:
# the project's one lock, `Locked` (a pthread mutex), is one TSan understands.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
ADDRESS_SUITES='HostileInputTests|HDF5Tests|CheckpointTests|NamedCheckpointTests|KerasModelFileTests|WeightsByNameTests|IDXTests|MNISTStyleTests|CIFAR10Tests|PNGCodecTests|JPEGCodecTests|ImageFolderTests|SignsTests|BadInputTests'
THREAD_SUITES='TrainerTests|\.TrainingTests|PipelinePreprocessingTests|PipelineAugmentationTests|PipelineImageFolderTests|FastReferenceAgreementTests|DataParallelLibraryTests|BackendConfigurationTests'
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(address thread)
for kind in "${kinds[@]}"; do
    case $kind in
        address) suites=$ADDRESS_SUITES ;;
        thread) suites=$THREAD_SUITES ;;
        *) echo "sanitizers.sh: unknown sanitizer '$kind' (address or thread)" >&2; exit 2 ;;
    esac
    start=$(date +%s)
    # Leak checking is off: the Swift runtime keeps metadata caches for the life of the process.
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 TSAN_OPTIONS=halt_on_error=1 \
        swift test -c release --sanitize="$kind" --scratch-path ".build-$kind" --filter "$suites"
    # A race shows only when threads interleave badly: the thread suites (about 10 s once built)
    # run three times more.
    if [ "$kind" = thread ]; then
        for _ in 1 2 3; do
            TSAN_OPTIONS=halt_on_error=1 swift test -c release --sanitize=thread --scratch-path .build-thread \
                --skip-build --filter "$suites"
        done
    fi
    echo "sanitizers.sh: $kind sanitizer: passed in $(( $(date +%s) - start )) s"
done
