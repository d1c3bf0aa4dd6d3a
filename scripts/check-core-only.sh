#!/usr/bin/env bash
# Proves that a package depending on ConvNetCore alone builds and runs without ConvNet's other
# modules and their C libraries: builds Tests/CoreOnlyPackage with pkg-config unable to find any
# library, runs it (a small CNN must learn), and checks that nothing else of ConvNet was compiled
# or linked. `make test` runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d /tmp/convnet-core-only.XXXXXX)
empty=$(mktemp -d /tmp/convnet-no-pkgconfig.XXXXXX)
trap 'rm -rf "$scratch" "$empty"' EXIT

PKG_CONFIG_LIBDIR="$empty" PKG_CONFIG_PATH="" \
    swift build --package-path "$here/Tests/CoreOnlyPackage" --scratch-path "$scratch" --product CoreOnly -q
binary="$scratch/debug/CoreOnly"
"$binary"

status=0
for module in ConvNetData ConvNetFiles ConvNetVisualization ConvNet CImageShims ConvNetDistributed convnet; do
    # A module outside the build graph (ConvNetDistributed without Open MPI) has no folder at all.
    [ -d "$scratch/debug/$module.build" ] || continue
    objects=$(find "$scratch/debug/$module.build" -name '*.o' | wc -l)
    if [ "$objects" -ne 0 ]; then echo "core-only: $module was compiled ($objects objects)" >&2; status=1; fi
done
if linked=$(ldd "$binary" | grep -E 'libhdf5|libpng|libjpeg|libz\.so|libmpi'); then
    echo "core-only: CoreOnly links $linked" >&2; status=1
fi
[ "$status" -eq 0 ] && echo "core-only: a package using ConvNetCore alone built and trained without ConvNet's data, files and visualisation modules or their C libraries"
exit "$status"
