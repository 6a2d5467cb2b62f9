/*
  labels.c - configuration labels in their shortest round-trip form (printed by plan and analyze; the stored labels,
  part of the member ids, are unchanged).
*/
#include <stabaudit/sasys.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*@C
  SAConfigLabelShorten - A configuration label for display: every number in its shortest decimal form that reads
  back as the same double ("lr=0.050000000000000003,dropout=0" becomes "lr=0.05,dropout=0")

  Not Collective

  Input Parameters:
+ in  - a label of `SACampaignGetConfigLabel()` (or results.nc's config_label)
- len - size of out (not the same memory as in)

  Output Parameter:
. out - the label to print

  Notes:
  The stored labels keep every digit (they are part of the member ids); only what is printed is shortened.

  Level: intermediate

.seealso: `SACampaignGetConfigLabel()`
@*/
PetscErrorCode SAConfigLabelShorten(const char in[], char out[], size_t len)
{
  size_t o = 0;

  PetscFunctionBeginUser;
  PetscCheck(len > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "Output buffer of size 0");
  for (const char *p = in; *p && o + 1 < len;) {
    if (p[0] == '=' && p[1]) { /* a value: up to the next ',' */
      char   num[64], best[64];
      size_t n = strcspn(p + 1, ",");
      char  *end;
      double v;

      out[o++] = *p++;
      if (n >= sizeof(num)) n = sizeof(num) - 1;
      memcpy(num, p, n);
      num[n] = 0;
      v      = strtod(num, &end);
      if (end != num && !*end) {
        for (int prec = 1; prec <= 17; prec++) { /* C's %g: PETSc's printf marks reals with a trailing '.' */
          (void) snprintf(best, sizeof(best), "%.*g", prec, v);
          if (strtod(best, NULL) == v) break;
        }
      } else PetscCall(PetscStrncpy(best, num, sizeof(best))); /* not a number: as it is */
      for (const char *q = best; *q && o + 1 < len; q++) out[o++] = *q;
      p += strcspn(p, ",");
    } else out[o++] = *p++;
  }
  out[o] = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}
