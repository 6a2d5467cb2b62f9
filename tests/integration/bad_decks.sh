#!/bin/bash
# Bad input through the real command line: each case exits non-zero with one clear message naming
# the file (or the command line), the key and what is allowed, and writes nothing.
TEST_NAME=bad_decks
. "$(dirname "$0")/common.sh"
good=$SA_SRC/tests/decks/small.yaml
# case NAME "YAML" "expected text" ["expected text 2"] [-- extra options]
check() {
  local name=$1 yaml=$2 want1=$3 want2=$4; shift 4
  printf '%s' "$yaml" > "$name.yaml"
  if sa 2 run "$name.yaml" -o "out_$name" "$@" > "$name.log" 2>&1; then fail "$name: exit status 0"; fi
  grep -q "stabaudit: error:" "$name.log" || fail "$name: no 'stabaudit: error:' line: $(cat "$name.log")"
  [ "$(grep -c "stabaudit: error:" "$name.log")" -eq 1 ] || fail "$name: the message is printed more than once"
  grep -qF -- "$want1" "$name.log" || fail "$name: message lacks '$want1': $(grep 'error:' "$name.log")"
  grep -qF -- "$want2" "$name.log" || fail "$name: message lacks '$want2': $(grep 'error:' "$name.log")"
  if grep -q "PETSC ERROR" "$name.log"; then fail "$name: a PETSc traceback instead of a clear message"; fi
  [ ! -e "out_$name" ] || fail "$name: wrote out_$name"
  echo "  $name: $(grep 'stabaudit: error:' "$name.log")"
}
base='campaign: {steps: 20, record_every: 5}
task: {type: quadratic, noise: 0.1, quadratic: {dim: 16}}
optimizer: {type: sgd, lr: 0.5}
'
check unknown_key "${base}perturbations: [p]
p: {kind: lr_spike, magnitudes: [2], onsett: 3}
" "unknown_key.yaml" "unknown key 'onsett' in section 'p'"
check wrong_type "campaign: {steps: twenty}
" "wrong_type.yaml" "campaign_steps" "expected an integer"
check out_of_range "${base}sweep: {lr: [0.1, -2]}
" "out_of_range.yaml" "sweep_lr" "real numbers in"
check bad_enum "optimizer: {type: adagrad}
" "bad_enum.yaml" "optimizer_type" "one of adam, adamw, momentum, sgd"
check bad_kind "${base}perturbations: [p]
p: {kind: gravity, magnitudes: [2]}
" "bad_kind.yaml" "p_kind" "lr_spike"
check bad_magnitude "${base}perturbations: [p]
p: {kind: weight_kick, magnitudes: [-1]}
" "bad_magnitude.yaml" "p_magnitudes" "[0"
check missing_file "task: {type: quadratic, quadratic: {spectrum: file, spectrum_file: /no/such/eigs.txt}}
" "missing_file.yaml" "/no/such/eigs.txt" "task_quadratic_spectrum_file"
check yaml_syntax "campaign: {steps: 20
task: x
" "yaml_syntax.yaml" "YAML syntax error" "line"
check list_of_maps "perturbations:
  - {kind: lr_spike, onset: 3}
" "list_of_maps.yaml" "repeated blocks are named" "perturbations: [spike, kick]"
check record_every "campaign: {steps: 20, record_every: 3}
" "record_every.yaml" "campaign_record_every" "must divide"
check cli_typo "$base" "the command line" "unknown key 'stepz' in section 'campaign'" -campaign_stepz 3
check cli_type "$base" "the command line" "campaign_steps" -campaign_steps 1.5
check group_size "$base" "group_size" "expected an integer in [1, 2]" -group_size 3
# kinds that make no sense for the workload or optimizer are deck errors, not silent no-ops
digits='campaign: {steps: 20, record_every: 5}
task: {type: classify, classify: {dataset: digits, batch: 0}}
model: {hidden: [8]}
optimizer: {type: sgd, lr: 0.1}
'
check kind_task "${base}perturbations: [p]
p: {kind: label_noise, magnitudes: [0.1]}
" "kind_task.yaml" "kind label_noise of block 'p': needs labelled samples, which task quadratic does not offer"
check kind_optimizer "${base}perturbations: [p]
p: {kind: adam_eps, magnitudes: [0.1]}
" "p_kind" "needs optimizer adam or adamw, but the optimizer is sgd"
check kind_fullbatch "${digits}perturbations: [p]
p: {kind: batch_scale, magnitudes: [2]}
" "p_kind" "needs minibatches"
check kind_layer "${digits}perturbations: [p]
p: {kind: layer_reset, magnitudes: [1], layer: 9}
" "p_layer" "layer 9 does not exist: the model has layers 1..2"
check kind_noclip "${digits}perturbations: [p]
p: {kind: clip_off, magnitudes: [0]}
" "p_kind" "the optimizer does not clip"
check kind_integer "${digits}perturbations: [p]
p: {kind: precision, magnitudes: [7.5]}
" "p_kind" "must be integers in [1, 52]"
# sweep axes through the generic task setters: a task type without the setting is a deck error of the axis key
check sweep_dropout "${base}sweep: {dropout: [0.1]}
" "sweep_dropout" "Task type quadratic has no dropout"
check sweep_batch "${base}sweep: {batch: [8]}
" "sweep_batch" "Task type quadratic has no batch size"
printf '%s' "$base" > divide.yaml
if sa 4 run divide.yaml -o out_divide -group_size 3 > divide.log 2>&1; then fail "group_size 3 on 4 ranks: exit 0"; fi
grep -q "key 'group_size' (option -group_size): 3 must divide the number of MPI ranks (4)" divide.log || fail "group_size 3 on 4 ranks: $(grep error: divide.log)"
[ ! -e out_divide ] || fail "group_size: wrote out_divide"
if sa 1 run /no/such/deck.yaml -o out_nodeck > nodeck.log 2>&1; then fail "missing deck: exit 0"; fi
grep -q "deck '/no/such/deck.yaml': cannot open it" nodeck.log || fail "missing deck: $(cat nodeck.log)"
[ ! -e out_nodeck ] || fail "missing deck: wrote out_nodeck"

# the command line overrides the deck, and an existing directory refuses a deck that changes results
sa 1 run "$good" -o cli -campaign_steps 80 -campaign_seeds 5 > cli.log
grep -q "^campaign_steps: 80 " cli/deck.yaml || fail "-campaign_steps did not override the deck"
grep -q "^campaign_seeds: \[5\] " cli/deck.yaml || fail "-campaign_seeds did not override the deck"
if sa 1 run "$good" -o cli -campaign_steps 80 -campaign_seeds 5 -optimizer_lr 0.3 > changed.log 2>&1; then fail "a changed deck resumed a directory"; fi
grep -q "optimizer_lr' was 1 and is now 0.29999999999999999" changed.log || fail "changed deck: $(grep error: changed.log)"
echo "bad_decks: OK"
