#!/bin/bash
# results.nc opens in Debian's python3-xarray without warnings and carries the CF attributes.
TEST_NAME=dataset
. "$(dirname "$0")/common.sh"
sa 2 run "$SA_SRC/tests/decks/small.yaml" -o q > q.log
"$PY" "$SA_SRC/tests/integration/check_dataset.py" q/results.nc
echo "dataset: OK"
