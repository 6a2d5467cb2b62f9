#!/bin/bash
# Probes in training (tests/decks/probes.yaml): perturbed members that branch from their twin's checkpoint (probe rows
# and warm-start eigenvectors restored from it) give a dataset bitwise identical to training from step 0; probing does
# not change the trajectory (every other variable equals the run of tests/decks/small.yaml bitwise); the stored values
# match the quadratic's closed forms (check_probes.py). Layout independence (1 vs 2 ranks per group) is tested in
# test_probes (a group of 2 runs every EPS/SVD reduction across ranks: slow when the machine is oversubscribed).
TEST_NAME=probes
. "$(dirname "$0")/common.sh"
deck=$SA_SRC/tests/decks/probes.yaml
pvars=probe_step,hessian_eig,hessian_residual,hessian_hvps,hessian_iterations,hessian_eig_min,sharpness
pvars=$pvars,sharpness_ratio,hessian_trace,hessian_trace_stderr,jacobian_radius,jacobian_eig_re,jacobian_eig_im
pvars=$pvars,jacobian_sv,hessian_density,density_grid
sa 2 run "$deck" -o branch > branch.log
sa 2 run "$deck" -o scratch -campaign_branch false > scratch.log
grep -q "(from 30)" branch.log || fail "no member branched at its onset"
"$NCCOMPARE" branch/results.nc scratch/results.nc
sa 2 run "$SA_SRC/tests/decks/small.yaml" -o noprobe > noprobe.log
"$NCCOMPARE" branch/results.nc noprobe/results.nc -exclude "$pvars"
$PY "$SA_SRC/tests/integration/check_dataset.py" branch/results.nc
$PY "$SA_SRC/tests/integration/check_probes.py" branch/results.nc
echo "probes: OK"
