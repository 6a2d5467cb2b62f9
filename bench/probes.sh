#!/bin/bash
# Probe benchmark (not a test): build/bin/bench_probes on the MLP Hessian (digits, 64-64-10, 4810 parameters, probe
# batch 256, after 300 training steps of heavy ball), `reps` runs, medians. In one run, on the same operator and
# starting vector:
#   - HVPs and time to reach top-1 and top-5 eigenvalue relative error 1e-6 (against a tight reference solve):
#     SLEPc Krylov-Schur (defaults; seen at its restarts), plain Lanczos (its first cycle, seen after every HVP) and
#     power iteration with deflation (PyHessian's algorithm, same HVP; oracle stop and PyHessian's relative-change
#     stop at 1e-6, with the error that stop leaves);
#   - top-1 with honest stopping rules, the same rule for both methods (HVPs of the whole solve): PyHessian's relative
#     change < tau with the loosest tau that reaches 1e-6 (chosen knowing the answer: generous to either method), and
#     the residual rule |H x - theta x| <= 1e-6 |theta| (bounds the error without knowing the answer); Krylov-Schur
#     with SLEPc's ncv and with -bench_ncv (6), and Lanczos seen after every HVP (Krylov-Schur without restarts);
#   - warm starts over 10 consecutive probes 20 training steps apart: HVPs of SAProbe (top-5 and bottom-5, tol 1e-6)
#     and of top-5 alone, cold and warm, and how far the previous eigenvectors are from the next operator's
#     (relative residual of their Rayleigh-Ritz pairs).
# Usage: bench/probes.sh [reps] [bench_probes options...] (default 3 reps). Environment: SA_BENCH_BIN=<bench_probes>.
# About 5 s per rep.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${SA_BENCH_BIN:-$here/../build/bin/bench_probes}
reps=${1:-3}
shift || true
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
[ -x "$bin" ] || { echo "probes.sh: $bin not built (cmake --build build --target bench_probes)" >&2; exit 1; }
work=$(mktemp -d /tmp/sa_bench_probes_XXXXXX)
trap 'rm -rf "$work"' EXIT
val() { sed -n "s/^RESULT.* $1=\([^ ]*\).*/\1/p" "$2"; }
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }
pass() { awk -v x="$1" -v t="$2" 'BEGIN {if (x == "n/a") print "n/a"; else print (x + 0 >= t) ? "PASS" : "FAIL"}'; }
echo "== machine: $(getconf _NPROCESSORS_ONLN) CPUs, load average $(cut -d' ' -f1 /proc/loadavg) at start"
keys=(ks1_hvps ks1_s lanczos1_hvps power1_hvps power1_s power1_stop_hvps power1_stop_err ksk_hvps ksk_s lanczosk_hvps
  powerk_hvps powerk_s powerk_stop_hvps powerk_stop_err cold_hvps warm_hvps cold_s warm_s topcold_hvps topwarm_hvps
  ks1small_hvps power1_chg_hvps power1_chg_tau power1_res_hvps ks1_chg_hvps ks1_chg_tau ks1_res_hvps ks1small_chg_hvps
  ks1small_chg_tau ks1small_res_hvps lanczos1_res_hvps warm_rr_res)
declare -A all
for i in $(seq 1 "$reps"); do
  if ! "$bin" -options_left "$@" > "$work/r$i" 2>&1 || ! grep -q '^RESULT' "$work/r$i" || grep -q 'not used' "$work/r$i"; then
    echo "probes.sh: bench_probes failed, output:" >&2
    cat "$work/r$i" >&2
    exit 1
  fi
  [ "$i" = 1 ] && grep -v '^RESULT' "$work/r1" | grep -v '^$'
  for k in "${keys[@]}"; do all[$k]+=" $(val "$k" "$work/r$i")"; done
done
m() { med ${all[$1]}; }
echo
echo "== medians of $reps runs"
row() { printf '%-58s %10s %10s %7s %7s %s\n' "$@"; }
row "figure (A vs B)" "A" "B" "B/A" "target" "result"
r=$(ratio "$(m power1_hvps)" "$(m ks1_hvps)")
row "top-1 to 1e-6, HVPs: Krylov-Schur vs power iteration" "$(m ks1_hvps)" "$(m power1_hvps)" "$r" ">= 4" "$(pass "$r" 4)"
r=$(ratio "$(m power1_hvps)" "$(m lanczos1_hvps)")
row "top-1 to 1e-6, HVPs: Lanczos (per HVP) vs power iteration" "$(m lanczos1_hvps)" "$(m power1_hvps)" "$r" "-" "(info)"
r=$(ratio "$(m power1_chg_hvps)" "$(m ks1_chg_hvps)")
row "top-1, relative-change stop, HVPs: Krylov-Schur vs power" "$(m ks1_chg_hvps)" "$(m power1_chg_hvps)" "$r" ">= 4" "$(pass "$r" 4)"
r=$(ratio "$(m power1_chg_hvps)" "$(m ks1small_chg_hvps)")
row "  the same, Krylov-Schur with the small ncv" "$(m ks1small_chg_hvps)" "$(m power1_chg_hvps)" "$r" ">= 4" "$(pass "$r" 4)"
r=$(ratio "$(m power1_chg_hvps)" "$(m lanczos1_hvps)")
row "  bound: Lanczos per HVP (oracle) vs power (change stop)" "$(m lanczos1_hvps)" "$(m power1_chg_hvps)" "$r" "-" "(info)"
row "  taus of the change stops: power / Krylov-Schur / small ncv" "$(m power1_chg_tau)" "$(m ks1_chg_tau)" "" "" "$(m ks1small_chg_tau)"
r=$(ratio "$(m power1_res_hvps)" "$(m ks1_res_hvps)")
row "top-1, residual stop 1e-6, HVPs: Krylov-Schur vs power" "$(m ks1_res_hvps)" "$(m power1_res_hvps)" "$r" "-" "(info)"
r=$(ratio "$(m power1_res_hvps)" "$(m ks1small_res_hvps)")
row "  the same, Krylov-Schur with the small ncv" "$(m ks1small_res_hvps)" "$(m power1_res_hvps)" "$r" "-" "(info)"
r=$(ratio "$(m power1_res_hvps)" "$(m lanczos1_res_hvps)")
row "  bound: Lanczos per HVP vs power, residual stop" "$(m lanczos1_res_hvps)" "$(m power1_res_hvps)" "$r" "-" "(info)"
r=$(ratio "$(m power1_s)" "$(m ks1_s)")
row "top-1 to 1e-6, seconds: Krylov-Schur vs power iteration" "$(m ks1_s)" "$(m power1_s)" "$r" "-" "(info)"
r=$(ratio "$(m powerk_hvps)" "$(m ksk_hvps)")
row "top-5 to 1e-6, HVPs: Krylov-Schur vs power iteration" "$(m ksk_hvps)" "$(m powerk_hvps)" "$r" "-" "(info)"
r=$(ratio "$(m powerk_s)" "$(m ksk_s)")
row "top-5 to 1e-6, seconds: Krylov-Schur vs power iteration" "$(m ksk_s)" "$(m powerk_s)" "$r" "-" "(info)"
row "power, PyHessian stop 1e-6: HVPs top-1 / top-5" "$(m power1_stop_hvps)" "$(m powerk_stop_hvps)" "" "" "(info)"
row "power, PyHessian stop 1e-6: relative error top-1 / top-5" "$(m power1_stop_err)" "$(m powerk_stop_err)" "" "" "(info)"
r=$(ratio "$(m cold_hvps)" "$(m warm_hvps)")
row "10 probes top-5+bottom-5, HVPs: warm vs cold" "$(m warm_hvps)" "$(m cold_hvps)" "$r" ">= 2" "$(pass "$r" 2)"
r=$(ratio "$(m topcold_hvps)" "$(m topwarm_hvps)")
row "10 probes top-5 alone, HVPs: warm vs cold" "$(m topwarm_hvps)" "$(m topcold_hvps)" "$r" "-" "(info)"
r=$(ratio "$(m cold_s)" "$(m warm_s)")
row "10 probes top-5+bottom-5, seconds: warm vs cold" "$(m warm_s)" "$(m cold_s)" "$r" "-" "(info)"
row "10 probes: relative residual of the previous top-k eigenvectors" "$(m warm_rr_res)" "" "" "" "(info)"
