#!/bin/bash
# layering.sh BUILD_DIR - fails when a layer library references a symbol defined by a higher layer, or when perturb/
# and analysis/ reference each other (docs/architecture.md). Layers, lowest first: sa_sys (common/), sa_train
# (solvers/), sa_perturb (perturb/) and sa_analysis (analysis/) side by side, sa_campaign (jobs/). Reads the static
# libraries with nm: the undefined symbols of each library that some library defines must come from an allowed one.
set -euo pipefail
build=${1:?usage: layering.sh BUILD_DIR}
libs=(sa_sys sa_train sa_perturb sa_analysis sa_campaign)
declare -A allowed=(
  [sa_sys]="sa_sys"
  [sa_train]="sa_sys sa_train"
  [sa_perturb]="sa_sys sa_train sa_perturb"
  [sa_analysis]="sa_sys sa_train sa_analysis"
  [sa_campaign]="sa_sys sa_train sa_perturb sa_analysis sa_campaign"
)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for l in "${libs[@]}"; do
  a="$build/lib$l.a"
  [ -f "$a" ] || { echo "layering: $a not built"; exit 1; }
  nm -g --defined-only "$a" 2>/dev/null | awk 'NF >= 3 && $2 ~ /[TDBRC]/ {print $3}' | sort -u > "$tmp/$l.def"
  nm -g --undefined-only "$a" 2>/dev/null | awk '{print $NF}' | sort -u > "$tmp/$l.undef"
  [ -s "$tmp/$l.def" ] || { echo "layering: $a defines no symbol"; exit 1; }
done
status=0
for l in "${libs[@]}"; do
  for other in "${libs[@]}"; do
    case " ${allowed[$l]} " in *" $other "*) continue ;; esac
    bad=$(comm -12 "$tmp/$l.undef" "$tmp/$other.def" || true)
    if [ -n "$bad" ]; then
      echo "layering: $l references $other (not below it):"
      sed 's/^/  /' <<< "$bad"
      status=1
    fi
  done
done
[ $status -eq 0 ] && echo "layering: OK (${libs[*]})"
exit $status
