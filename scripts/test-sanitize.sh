#!/usr/bin/env bash
# npm run test:sanitize: builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer
# into build-sanitize/ (cmake-js, from CMakeLists.txt; build/ is left alone) and runs the test
# suite against it: IOMUX_ADDON_PATH makes lib/binding.ts (and the tests' child processes and
# workers) load that build, and libasan is preloaded because node itself is not instrumented.
# Any ASan report or undefined behaviour aborts the process, which fails the test that ran it.
# Extra arguments go to vitest (e.g. a test file).
set -euo pipefail
cd "$(dirname "$0")/.."

flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
npx cmake-js compile --out build-sanitize \
  --CDCMAKE_CXX_FLAGS="$flags" \
  --CDCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"

export IOMUX_ADDON_PATH="$PWD/build-sanitize/Release/addon.node"
LD_PRELOAD="$(g++ -print-file-name=libasan.so)"
export LD_PRELOAD
# Node and V8 keep memory until exit on purpose: leak reports would be noise.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
npx vitest run "$@"
