# Shared by the integration tests: paths from ctest's environment and small helpers.
set -euo pipefail
: "${SA_BIN:?}" "${SA_SRC:?}" "${SA_BUILD:?}"
MPIEXEC=${SA_MPIEXEC:-mpiexec}
NCCOMPARE=$SA_BUILD/bin/sa_nccompare
NCTWINS=$SA_BUILD/bin/sa_nctwins
PY=/usr/bin/python3
WORK=$SA_BUILD/itest/${TEST_NAME:?}
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

fail() { echo "FAIL: $*" >&2; exit 1; }
# sa NP ARGS... : runs stabaudit on NP ranks
sa() { local np=$1; shift; "$MPIEXEC" -n "$np" "$SA_BIN" "$@"; }
