#!/bin/bash
# The README's quickstart deck runs on 2 ranks and prints its summary; every deck in input/ plans.
TEST_NAME=quickstart
. "$(dirname "$0")/common.sh"
sa 2 run "$SA_SRC/input/quickstart.yaml" -o q > q.log
grep -q "^results: q/results.nc" q.log || fail "no summary: $(tail -3 q.log)"
grep -q "none (twin)" q.log || fail "no twin row in the summary"
for deck in "$SA_SRC"/input/*.yaml; do
  "$SA_BIN" plan "$deck" > "plan_$(basename "$deck").log" || fail "plan $deck"
done
echo "quickstart: OK"
