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
# the public headers: each belongs to a layer, and a layer's sources and headers include only headers of the layers
# below it (a header's own includes count for its layer)
src=$(cd "$(dirname "$0")/.." && pwd)
declare -A hlayer=(
  [sasys.h]=common [sastream.h]=common [sadeck.h]=common [sablas.h]=common [sancnames.h]=common
  [sadimension.h]=common
  [satask.h]=solvers [samodel.h]=solvers [saoptimizer.h]=solvers [sasolver.h]=solvers [sadataset.h]=solvers
  [saperturb.h]=perturb [saprobe.h]=analysis [saanalysis.h]=analysis
  [sacampaign.h]=jobs [saensemble.h]=jobs [saio.h]=jobs [sajobs.h]=jobs
)
declare -A below=(
  [common]="common" [solvers]="common solvers" [perturb]="common solvers perturb"
  [analysis]="common solvers analysis" [jobs]="common solvers perturb analysis jobs"
)
for h in "$src"/include/stabaudit/*.h; do
  [ -n "${hlayer[$(basename "$h")]:-}" ] || { echo "layering: $(basename "$h") has no layer in tests/layering.sh"; status=1; }
done
check_includes() { # file layer
  local inc
  for inc in $(sed -n 's|^#include <stabaudit/\([a-z]*\.h\)>|\1|p' "$1"); do
    local hl=${hlayer[$inc]:-}
    [ -z "$hl" ] && continue
    case " ${below[$2]} " in *" $hl "*) ;; *) echo "layering: ${1#"$src"/} ($2) includes $inc ($hl)"; status=1 ;; esac
  done
}
for h in "$src"/include/stabaudit/*.h; do check_includes "$h" "${hlayer[$(basename "$h")]:-common}"; done
for layer in common solvers perturb analysis jobs; do
  while IFS= read -r f; do check_includes "$f" "$layer"; done < <(find "$src/$layer" -name '*.[ch]')
done
[ $status -eq 0 ] && echo "layering: OK (${libs[*]}; includes)"
exit $status
