#!/bin/bash
# Twins: every perturbed member equals its twin bitwise before its onset, when it branches from the
# twin's checkpoint and when it is trained from step 0 (-campaign_branch false); both give
# bitwise identical datasets. Also: a branch point is really used (progress lines "from <onset>").
TEST_NAME=twins
. "$(dirname "$0")/common.sh"
deck=$SA_SRC/tests/decks/small.yaml
sa 2 run "$deck" -o branch > branch.log
sa 2 run "$deck" -o scratch -campaign_branch false > scratch.log
grep -q "(from 30)" branch.log || fail "no member branched at its onset"
if grep -q "(from" scratch.log; then fail "-campaign_branch false still branched"; fi
"$NCTWINS" branch/results.nc
"$NCTWINS" scratch/results.nc
"$NCCOMPARE" branch/results.nc scratch/results.nc
[ -z "$(ls branch/checkpoints)" ] || fail "checkpoints left after completion: $(ls branch/checkpoints)"
# a complete directory rebuilds results.nc from its shards, training nothing
rm branch/results.nc
sa 1 run "$deck" -o branch > rebuild.log
grep -q "24 finished earlier, 0 to run" rebuild.log || fail "rebuild: $(head -1 rebuild.log)"
"$NCCOMPARE" branch/results.nc scratch/results.nc
sa 2 run "$deck" -o keep -campaign_keep_checkpoints > keep.log
ls keep/checkpoints/b000000_s00000030.h5 > /dev/null || fail "-campaign_keep_checkpoints did not keep the branch points"
[ -z "$(ls keep/checkpoints | grep -v '^b.*\.h5$')" ] || fail "in-flight checkpoints left: $(ls keep/checkpoints)"
echo "twins: OK"
