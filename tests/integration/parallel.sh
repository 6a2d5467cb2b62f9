#!/bin/bash
# The small campaign on 1, 2 and 4 ranks (groups of 1), on 4 ranks in groups of 2 and on 2 ranks in
# one group of 2: bitwise identical data for equal group size, within 1e-12 relative across sizes.
TEST_NAME=parallel
. "$(dirname "$0")/common.sh"
deck=$SA_SRC/tests/decks/small.yaml
sa 1 run "$deck" -o np1 > np1.log
sa 2 run "$deck" -o np2 > np2.log
sa 4 run "$deck" -o np4 > np4.log
sa 4 run "$deck" -o np4g2 -group_size 2 > np4g2.log
sa 2 run "$deck" -o np2g2 -group_size 2 > np2g2.log
grep -q "on 4 group(s) of 1 rank" np4.log || fail "np4 did not use 4 groups"
grep -q "on 2 group(s) of 2 rank" np4g2.log || fail "np4g2 did not use 2 groups of 2"
"$NCCOMPARE" np1/results.nc np2/results.nc
"$NCCOMPARE" np1/results.nc np4/results.nc
"$NCCOMPARE" np2g2/results.nc np4g2/results.nc
"$NCCOMPARE" np1/results.nc np4g2/results.nc -rtol 1e-12
# the comparison must be able to fail: a different seed is not within tolerance
sa 1 run "$deck" -o other -campaign_seed 8 > other.log
if "$NCCOMPARE" np1/results.nc other/results.nc -rtol 1e-12 > /dev/null; then fail "a different campaign seed compared equal"; fi
echo "parallel: OK"
