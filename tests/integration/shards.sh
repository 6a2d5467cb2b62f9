#!/bin/bash
# Shards: three runs of disjoint shards (-shard_count 3 -shard_index k, as the tasks of a job array)
# work concurrently in one campaign directory; the last one to finish writes results.nc, bitwise
# identical to a direct run; every member ran exactly once; a second run of a shard in use, or a
# whole run while shards work, is refused; an out-of-range shard index is a clear error.
TEST_NAME=shards
. "$(dirname "$0")/common.sh"
deck=$SA_SRC/tests/decks/small.yaml
sa 2 run "$deck" -o ref > ref.log
total=$(grep -c '^\[' ref.log)

rc=0; sa 1 run "$deck" -o bad -shard_count 3 -shard_index 3 > bad.log 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q "key 'shard_index' (option -shard_index): 3 is out of range; allowed 0 to 2" bad.log ||
  fail "out-of-range shard index: rc $rc, $(cat bad.log)"

pids=()
for k in 0 1 2; do
  "$MPIEXEC" -n 1 "$SA_BIN" run "$deck" -o s -shard_count 3 -shard_index "$k" > "s$k.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a shard run failed: $(cat s0.log s1.log s2.log)"; done
ran=$(cat s0.log s1.log s2.log | grep -c '^\[' || true)
[ "$ran" -eq "$total" ] || fail "$ran member runs in the shards for $total members"
dups=$(cat s0.log s1.log s2.log | sed -n 's/^\[.*\] member *\([0-9]*\) group.*/\1/p' | sort | uniq -d)
[ -z "$dups" ] || fail "members run by two shards: $dups"
[ "$(grep -l '^results:' s0.log s1.log s2.log | wc -l)" -ge 1 ] || fail "no shard wrote results.nc"
"$NCCOMPARE" ref/results.nc s/results.nc
# a run on the whole directory afterwards merges again (nothing to run) and gives the same file
sa 1 run "$deck" -o s > merge.log
grep -q " 0 to run" merge.log || fail "the merge run trained members: $(head -3 merge.log)"
"$NCCOMPARE" ref/results.nc s/results.nc

# locks, on a longer campaign: while shard 1 works, the same shard and a whole run are refused, another shard is not
setsid "$MPIEXEC" -n 1 "$SA_BIN" run "$SA_SRC/tests/decks/long.yaml" -campaign_steps 3000 -o c -shard_count 3 -shard_index 1 > c1.log 2>&1 &
pid=$!
for _ in $(seq 1 400); do grep -q "^stabaudit: shard 1 of 3" c1.log && break; sleep 0.05; done
rc=0; sa 1 run "$SA_SRC/tests/decks/long.yaml" -campaign_steps 3000 -o c -shard_count 3 -shard_index 1 > dup.log 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q "campaign directory c is in use by another stabaudit run on shard 1 of 3 or on the whole campaign (pid [1-9]" dup.log ||
  fail "a second run of shard 1 was not refused: rc $rc, $(cat dup.log)"
rc=0; sa 1 run "$SA_SRC/tests/decks/long.yaml" -campaign_steps 3000 -o c > whole.log 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q "campaign directory c is in use by another stabaudit run (pid [1-9]" whole.log ||
  fail "a whole run on a directory in use by a shard was not refused: rc $rc, $(cat whole.log)"
setsid "$MPIEXEC" -n 1 "$SA_BIN" run "$SA_SRC/tests/decks/long.yaml" -campaign_steps 3000 -o c -shard_count 3 -shard_index 0 > c0.log 2>&1 &
pid0=$!
for _ in $(seq 1 400); do grep -q "^stabaudit: shard 0 of 3" c0.log && break; sleep 0.05; done
grep -q "^stabaudit: shard 0 of 3" c0.log || fail "shard 0 did not start next to shard 1: $(cat c0.log)"
kill -USR1 "$pid" "$pid0"
for p in "$pid" "$pid0"; do
  rc=0; wait "$p" || rc=$?
  [ "$rc" -eq 75 ] || fail "a shard run after SIGUSR1 exited $rc, expected 75: $(tail -3 c0.log c1.log)"
done
echo "shards: OK"
