#!/bin/bash
# Many onsets: one twin whose 64 perturbation blocks (SA_MAX_PERTS) each start at an onset of their own writes 64
# branch points, and every perturbed member starts from its own (progress "(from <onset>)"); the dataset is bitwise the
# one trained from step 0 (-campaign_branch false). The branch points of a twin are not capped (jobs/ensemble/
# ensemble_sched.c counts them per twin).
TEST_NAME=onsets
. "$(dirname "$0")/common.sh"
nb=64
{
  cat << EOF
campaign: {title: "many onsets", seed: 5, seeds: [1], steps: 80, record_every: 5, checkpoint_every: 40}
task: {type: quadratic, noise: 0.05, quadratic: {dim: 50, lambda_min: 0.05, lambda_max: 1.0}}
optimizer: {type: sgd, lr: 0.5}
EOF
  echo "perturbations: [$(seq -s ', ' -f 'p%g' 1 $nb)]"
  for i in $(seq 1 $nb); do echo "p$i: {kind: lr_scale, magnitudes: [1.5], onset: $i}"; done
} > onsets.yaml
sa 2 run onsets.yaml -o branch > branch.log
sa 2 run onsets.yaml -o scratch -campaign_branch false > scratch.log
for i in $(seq 1 $nb); do grep -q "(from $i)" branch.log || fail "no member branched at onset $i"; done
n=$(grep -c "(from" branch.log) || true
[ "$n" -eq $nb ] || fail "$n members branched; expected $nb"
if grep -q "(from" scratch.log; then fail "-campaign_branch false still branched"; fi
"$NCTWINS" branch/results.nc
"$NCCOMPARE" branch/results.nc scratch/results.nc
echo "onsets: OK"
