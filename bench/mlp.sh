#!/bin/bash
# MLP training benchmark, stabaudit against PyTorch, float64, 1 BLAS thread each. Not a test. In one run:
#   - training steps/s of the same MLP (tanh, softmax cross-entropy, SGD with heavy-ball momentum 0.9, lr 0.01):
#     small 64-128-10 on digits, batch 128; large 784-512-512-10 on Fashion-MNIST, batch 64. stabaudit:
#     build/bin/bench_mlp (SATask classify + SAOptimizer momentum + SASolver); PyTorch: bench/torch_mlp.py;
#   - the large step's GFLOP/s (6 B W per step) against the dgemm peak (order 1024) measured by bench_mlp;
#   - time of a Hessian-vector product over a gradient (SATaskHessianMult / SATaskLossGradient, same batch);
#   - 2-rank data-parallel speedup of the large model at batch 1024 (mpiexec -n 1 against -n 2);
#   - a BLAS comparison of the stabaudit step: reference BLAS, OpenBLAS on forced cores, OpenBLAS as selected.
# C and PyTorch runs alternate, `reps` times, so that machine noise hits both; the table gives medians.
# Usage: bench/mlp.sh [reps]  (default 5). Environment: SA_BENCH_CORETYPE=<core> pins OPENBLAS_CORETYPE for
# every run (otherwise an inherited OPENBLAS_CORETYPE is unset and the programs choose: bench_mlp through
# SABlasSelectCore; PyTorch gets the core bench_mlp ran on); SA_BENCH_BLAS_COMPARE=0 skips the BLAS comparison;
# SA_BENCH_BIN=<bench_mlp>; SA_BENCH_PYTHON=<python with torch>. Takes about 3 minutes (5 reps) on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${SA_BENCH_BIN:-$here/../build/bin/bench_mlp}
py=${SA_BENCH_PYTHON:-/usr/bin/python3} # Debian's python3-torch (TOOLCHAIN.md 5.1): not the pyenv python3 first in PATH
reps=${1:-5}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
[ -x "$bin" ] || { echo "mlp.sh: $bin not built (cmake --build build --target bench_mlp)" >&2; exit 1; }
if [ -n "${OPENBLAS_CORETYPE+x}" ]; then
  echo "mlp.sh: unsetting the inherited OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE (SA_BENCH_CORETYPE pins a core)"
  unset OPENBLAS_CORETYPE
fi
if [ -n "${SA_BENCH_CORETYPE:-}" ]; then export OPENBLAS_CORETYPE=$SA_BENCH_CORETYPE; fi
work=$(mktemp -d /tmp/sa_bench_mlp_XXXXXX)
trap 'rm -rf "$work"' EXIT

small_c=(-task_classify_dataset digits -task_classify_batch 128 -model_hidden 128 -bench_steps 2000 -bench_warmup 50
  -bench_hvp 200)
small_t=(--dataset digits --batch 128 --hidden 128 --steps 2000 --warmup 50)
large_c=(-task_classify_dataset fashion_mnist -task_classify_batch 64 -model_hidden 512,512 -bench_steps 200
  -bench_warmup 10 -bench_hvp 20)
large_t=(--dataset fashion_mnist --batch 64 --hidden 512,512 --steps 200 --warmup 10)
dp_c=(-task_classify_dataset fashion_mnist -task_classify_batch 1024 -model_hidden 512,512 -bench_steps 100
  -bench_warmup 8 -bench_hvp 0) # 100 timed steps (3-5 s): with 40, a run's 1-2 s window was mostly noise

val() { sed -n "s/^RESULT.* $1=\([^ ]*\).*/\1/p" "$2"; } # value of key $1 in the RESULT line of file $2
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }
mpx=() # extra mpiexec arguments (-x VAR=value)
run_c() { # run_c NP OUT ARGS... : bench_mlp under mpiexec; fails loudly
  local np=$1 out=$2
  shift 2
  if ! mpiexec "${mpx[@]}" -n "$np" "$bin" "$@" -options_left > "$out" 2>&1 || ! grep -q '^RESULT' "$out" ||
    grep -q 'not used' "$out"; then
    echo "mlp.sh: bench_mlp failed or left options unused, output:" >&2
    cat "$out" >&2
    exit 1
  fi
}
run_t() { # run_t OUT ARGS... : torch_mlp.py with the core of bench_mlp; fails loudly
  local out=$1
  shift
  if ! env "${torch_env[@]}" "$py" "$here/torch_mlp.py" "$@" > "$out" 2>&1 || ! grep -q '^RESULT torch=ok' "$out"; then
    echo "mlp.sh: torch_mlp.py failed, output:" >&2
    cat "$out" >&2
    exit 1
  fi
}

load() { cut -d' ' -f1 /proc/loadavg; }
echo "== machine: $(getconf _NPROCESSORS_ONLN) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)," \
  "libblas.so.3 -> $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3), load average $(load) at start"
if awk -v l="$(load)" 'BEGIN {exit !(l > 0.5)}'; then
  echo "   WARNING: the machine is busy (other processes); timings, above all the 2-rank speedup, are unreliable"
fi
torch_ok=1
if ! torch_err=$("$py" -c 'import torch' 2>&1); then
  torch_ok=0
  echo "== PyTorch UNAVAILABLE ($py: $(echo "$torch_err" | tail -1)); running the stabaudit half only."
  echo "   Install: DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-torch"
fi

# the core bench_mlp runs on decides PyTorch's (same dgemm kernels on both sides)
run_c 1 "$work/probe" "${small_c[@]}" -bench_steps 10 -bench_hvp 0 -bench_gemm 0
blas_c=$(sed -n 's/^bench_mlp: BLAS: //p' "$work/probe")
echo "== stabaudit BLAS: $blas_c"
torch_env=()
if [[ "$blas_c" == *"set by stabaudit"* && -z "${SA_BENCH_CORETYPE:-}" ]]; then
  torch_env=(OPENBLAS_CORETYPE="$(echo "$blas_c" | sed -n 's/.*, core \([A-Za-z0-9]*\).*/\1/p')")
fi

declare -a s_c s_t l_c l_t l_gf l_peak l_hg s_hg l_g l_h d1 d2 d2peak d2x q_small q_large q_peak q_dp
for i in $(seq 1 "$reps"); do
  run_c 1 "$work/small_c$i" "${small_c[@]}" -bench_gemm 0
  s_c+=("$(val steps_per_s "$work/small_c$i")")
  s_hg+=("$(val hvp_over_grad "$work/small_c$i")")
  line="rep $i: small stabaudit $(val steps_per_s "$work/small_c$i") steps/s"
  if [ $torch_ok = 1 ]; then
    run_t "$work/small_t$i" "${small_t[@]}"
    s_t+=("$(val steps_per_s "$work/small_t$i")")
    q_small+=("$(ratio "${s_c[-1]}" "${s_t[-1]}")")
    line+=", PyTorch $(val steps_per_s "$work/small_t$i") steps/s"
  fi
  run_c 1 "$work/large_c$i" "${large_c[@]}" -bench_gemm 1024
  l_c+=("$(val steps_per_s "$work/large_c$i")")
  l_gf+=("$(val gflops_nominal "$work/large_c$i")")
  l_peak+=("$(val dgemm_peak "$work/large_c$i")")
  l_hg+=("$(val hvp_over_grad "$work/large_c$i")")
  q_peak+=("$(ratio "${l_gf[-1]}" "${l_peak[-1]}")")
  l_g+=("$(val grad_ms "$work/large_c$i")")
  l_h+=("$(val hvp_ms "$work/large_c$i")")
  line+="; large stabaudit $(val steps_per_s "$work/large_c$i") steps/s ($(val gflops_nominal "$work/large_c$i")"
  line+=" GF/s, dgemm peak $(val dgemm_peak "$work/large_c$i"))"
  if [ $torch_ok = 1 ]; then
    run_t "$work/large_t$i" "${large_t[@]}"
    l_t+=("$(val steps_per_s "$work/large_t$i")")
    q_large+=("$(ratio "${l_c[-1]}" "${l_t[-1]}")")
    line+=", PyTorch $(val steps_per_s "$work/large_t$i") steps/s"
  fi
  echo "$line"
  run_c 1 "$work/dp1_$i" "${dp_c[@]}" -bench_gemm 0
  run_c 2 "$work/dp2_$i" "${dp_c[@]}" -bench_gemm 1024 -bench_gemm_reps 3
  d1+=("$(val steps_per_s "$work/dp1_$i")")
  d2+=("$(val steps_per_s "$work/dp2_$i")")
  d2peak+=("$(val dgemm_peak "$work/dp2_$i")")
  d2x+=("$(val exchange_ms "$work/dp2_$i")")
  q_dp+=("$(ratio "${d2[-1]}" "${d1[-1]}")")
  echo "rep $i: batch 1024, 1 rank $(val steps_per_s "$work/dp1_$i") steps/s, 2 ranks $(val steps_per_s "$work/dp2_$i")" \
    "steps/s (dgemm on both ranks at once: $(val dgemm_peak "$work/dp2_$i") GF/s per rank; gather + reduce-scatter" \
    "on their own: $(val exchange_ms "$work/dp2_$i") ms)"
done
if [ $torch_ok = 1 ]; then echo "== PyTorch BLAS: $(sed -n 's/^torch_mlp: BLAS: //p' "$work/large_t1")"; fi

ms_c=$(med "${s_c[@]}")
ml_c=$(med "${l_c[@]}")
ml_gf=$(med "${l_gf[@]}")
ml_peak=$(med "${l_peak[@]}")
ml_hg=$(med "${l_hg[@]}")
ms_hg=$(med "${s_hg[@]}")
md1=$(med "${d1[@]}")
md2=$(med "${d2[@]}")
if [ $torch_ok = 1 ]; then
  ms_t=$(med "${s_t[@]}")
  ml_t=$(med "${l_t[@]}")
else ms_t=0 ml_t=0; fi
f1() { awk -v x="$1" 'BEGIN {printf "%.1f", x}'; }
tf1() { if [ $torch_ok = 1 ]; then f1 "$1"; else echo "n/a"; fi; }
f2() { awk -v x="$1" 'BEGIN {printf "%.2f", x}'; }
pass() { awk -v x="$1" -v op="$2" -v t="$3" 'BEGIN {if (x == "n/a") print "n/a"; else if ((op == ">=" && x + 0 >= t) || (op == "<=" && x + 0 <= t)) print "PASS"; else print "FAIL"}'; }
r_small=$(ratio "$ms_c" "$ms_t")
r_large=$(ratio "$ml_c" "$ml_t")
r_peak=$(awk -v a="$ml_gf" -v b="$ml_peak" 'BEGIN {printf "%.2f", a / b}')
r_dp=$(ratio "$md2" "$md1")
echo
echo "== summary: medians of $reps runs, float64, 1 thread per process; A/B = ratio of the medians, range = A/B of each run"
rng() { if [ $# -gt 0 ]; then printf '%s\n' "$@" | sort -g | awk 'NR == 1 {a = $1} {b = $1} END {printf "%.2f-%.2f", a, b}'; else echo "-"; fi; }
row() { printf '%-54s %-9s %-9s %-6s %-10s %-7s %s\n' "$@"; }
row "figure (A / B)" "A" "B" "A/B" "range" "target" "result"
row "small 64-128-10 b128 steps/s: stabaudit / PyTorch" "$(f1 "$ms_c")" "$(tf1 "$ms_t")" "$r_small" "$(rng "${q_small[@]}")" ">= 2" \
  "$(pass "$r_small" ">=" 2)"
row "large 784-512-512-10 b64 steps/s: stabaudit / PyTorch" "$(f1 "$ml_c")" "$(tf1 "$ml_t")" "$r_large" "$(rng "${q_large[@]}")" ">= 1.2" \
  "$(pass "$r_large" ">=" 1.2)"
row "large b64 GFLOP/s (6BW/step) / dgemm peak n=1024" "$(f1 "$ml_gf")" "$(f1 "$ml_peak")" "$r_peak" "$(rng "${q_peak[@]}")" ">= 0.6" \
  "$(pass "$r_peak" ">=" 0.6)"
row "large b64 HVP ms / gradient ms" "$(f2 "$(med "${l_h[@]}")")" "$(f2 "$(med "${l_g[@]}")")" "$(f2 "$ml_hg")" \
  "$(rng "${l_hg[@]}")" "<= 1.5" "$(pass "$ml_hg" "<=" 1.5)"
row "  large: ratio of their dgemm flops (sa_mlp_hvp)" "" "" "$(f2 "$(val hvp_flop_ratio "$work/large_c1")")" "" "-" \
  "(info)"
row "small b128 HVP / gradient" "" "" "$(f2 "$ms_hg")" "$(rng "${s_hg[@]}")" "-" "(info)"
row "large b1024 steps/s: 2 ranks / 1 rank" "$(f2 "$md2")" "$(f2 "$md1")" "$r_dp" "$(rng "${q_dp[@]}")" ">= 1.7" "$(pass "$r_dp" ">=" 1.7)"
echo "(dgemm GF/s per rank with both ranks busy: $(f1 "$(med "${d2peak[@]}")"), alone: $(f1 "$ml_peak"); 2 ranks: gather +" \
  "reduce-scatter on their own $(f2 "$(med "${d2x[@]}")") ms of a $(awk -v s="$md2" 'BEGIN {printf "%.2f", 1e3 / s}') ms step)"

if [ "${SA_BENCH_BLAS_COMPARE:-1}" != 0 ]; then
  echo
  echo "== BLAS comparison, stabaudit only (1 run each; small: steps/s, large: steps/s and dgemm peak GF/s)"
  ref=/usr/lib/x86_64-linux-gnu/blas:/usr/lib/x86_64-linux-gnu/lapack
  cases=("reference|LD_LIBRARY_PATH=$ref")
  if [[ "$blas_c" == OpenBLAS* ]]; then
    cases+=("OpenBLAS Prescott (forced)|OPENBLAS_CORETYPE=Prescott" "OpenBLAS Haswell (forced)|OPENBLAS_CORETYPE=Haswell"
      "OpenBLAS as selected|")
  fi
  for c in "${cases[@]}"; do
    name=${c%%|*} e=${c#*|} mpx=()
    if [ -n "$e" ]; then mpx=(-x "$e"); fi
    run_c 1 "$work/b_s" "${small_c[@]}" -bench_steps 500 -bench_hvp 0 -bench_gemm 0
    run_c 1 "$work/b_l" "${large_c[@]}" -bench_steps 20 -bench_warmup 2 -bench_hvp 0 -bench_gemm 1024 -bench_gemm_reps 2
    printf '%-28s small %7s steps/s   large %6s steps/s   dgemm %5s GF/s   ran: %s\n' "$name" \
      "$(f1 "$(val steps_per_s "$work/b_s")")" "$(f1 "$(val steps_per_s "$work/b_l")")" \
      "$(f1 "$(val dgemm_peak "$work/b_l")")" \
      "$(sed -n 's/^bench_mlp: BLAS: \(reference BLAS\).*/\1/p; s/^bench_mlp: BLAS: OpenBLAS.*, core \([A-Za-z0-9]*\).*/OpenBLAS core \1/p' "$work/b_l")"
  done
fi
