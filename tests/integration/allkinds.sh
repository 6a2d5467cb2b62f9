#!/bin/bash
# Every perturbation kind (tests/decks/allkinds.yaml, one block each): a perturbed member equals its
# twin bitwise before its onset and is measurably different after it (twin_distance > 0: no kind
# is a silent no-op); groups of 1 and groups of 2 agree within 1e-12; re-runs are bitwise equal.
TEST_NAME=allkinds
. "$(dirname "$0")/common.sh"
deck=$SA_SRC/tests/decks/allkinds.yaml
sa 2 run "$deck" -o g1 > g1.log
sa 2 run "$deck" -o g1again > g1again.log
sa 2 run "$deck" -o g2 -group_size 2 > g2.log
"$NCTWINS" g1/results.nc
"$NCTWINS" g2/results.nc
$PY "$SA_SRC/tests/integration/check_allkinds.py" g1/results.nc 22
"$NCCOMPARE" g1/results.nc g1again/results.nc
"$NCCOMPARE" -rtol 1e-12 g1/results.nc g2/results.nc
echo "allkinds: OK"
