/*
  results_lyap.c - the Lyapunov section of results.nc (SALyap, deck section lyap:): dimension lyap, the exponents
  lyap_exponent(member, lyap) and the counted steps lyap_steps(member); and the table of results.nc's sections
  (the probes' section is in results_probes.c).
*/
#include "results_sections.h"
#include <netcdf_par.h>

typedef struct {
  PetscInt nlyap;             /* exponents per member */
  int      vlyap, vlyapsteps; /* the variables */
} SALyapNC;

static PetscErrorCode SALyapResultsDefine(int ncid, SACampaign c, int dmem, void **ctx)
{
  SALyap    ly;
  PetscInt  nlyap = 0;
  SALyapNC *x;
  int       dly, d2[2];

  PetscFunctionBeginUser;
  *ctx = NULL;
  PetscCall(SALyapCreateForMember(PETSC_COMM_SELF, c->seed, 0, &ly));
  if (ly) PetscCall(SALyapGetNumExponents(ly, &nlyap));
  PetscCall(SALyapDestroy(&ly));
  if (nlyap <= 0) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscNew(&x));
  x->nlyap = nlyap;
  SACallNC(nc_def_dim, (ncid, SA_NC_DIM_LYAP, (size_t) nlyap, &dly));
  d2[0] = dmem;
  d2[1] = dly;
  PetscCall(SANCDefVar(ncid, SA_NC_LYAP, NC_DOUBLE, 2, d2,
                       "leading Lyapunov exponents of the training update map (QR/Benettin), per optimizer step", "1",
                       &x->vlyap));
  PetscCall(SANCAttText(ncid, x->vlyap, "coordinates", SA_NC_MEMBER));
  PetscCall(SANCAttText(ncid, x->vlyap, "comment",
                        "lambda_i = sum of log R_ii over the counted steps / lyap_steps, in decreasing order; fill "
                        "where nothing was counted (the run diverged before the transient) or a tangent norm was "
                        "zero or not finite"));
  PetscCall(SANCDefVar(ncid, SA_NC_LYAPSTEPS, NC_INT, 1, &dmem,
                       "optimizer steps counted in lyap_exponent (after the transient)", "1", &x->vlyapsteps));
  *ctx = x;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SALyapResultsPut(MPI_Comm comm, int ncid, void *ctx, const SAShardIndex *idx, PetscInt m0,
                                       PetscInt nb)
{
  SALyapNC *x     = (SALyapNC *) ctx;
  PetscInt  nlyap = x->nlyap;
  double   *lb;
  int      *ls;
  size_t    start[2], count[2];

  PetscFunctionBeginUser;
  SACallNC(nc_var_par_access, (ncid, x->vlyap, NC_COLLECTIVE));
  SACallNC(nc_var_par_access, (ncid, x->vlyapsteps, NC_COLLECTIVE));
  PetscCall(PetscMalloc2(nb * nlyap + 1, &lb, nb + 1, &ls));
  for (PetscInt i = 0; i < nb; i++) {
    SAMemberResult r;

    PetscCall(SAShardRead(idx, m0 + i, &r));
    ls[i] = r.nlyap == nlyap ? (int) r.lyap_counted : NC_FILL_INT;
    for (PetscInt j = 0; j < nlyap; j++)
      lb[i * nlyap + j] = r.nlyap == nlyap && !PetscIsInfOrNanReal(r.lyap[j]) ? r.lyap[j] : NC_FILL_DOUBLE;
    PetscCall(SAMemberResultDestroy(&r));
  }
  start[0] = (size_t) m0;
  start[1] = 0;
  count[0] = (size_t) nb;
  count[1] = (size_t) nlyap;
  SACallNC(nc_put_vara_double, (ncid, x->vlyap, start, count, lb));
  SACallNC(nc_put_vara_int, (ncid, x->vlyapsteps, start, count, ls));
  PetscCall(PetscFree2(lb, ls));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SALyapResultsDestroy(void **ctx)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(*ctx));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAProbeSectionDefine(int ncid, SACampaign c, int dmem, void **ctx)
{
  SAProbeNC x = NULL;

  PetscFunctionBeginUser;
  PetscCall(SAProbeResultsDefine(ncid, c, dmem, &x));
  *ctx = x;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAProbeSectionPut(MPI_Comm comm, int ncid, void *ctx, const SAShardIndex *idx, PetscInt m0,
                                        PetscInt nb)
{
  PetscFunctionBeginUser;
  PetscCall(SAProbeResultsPut(comm, ncid, (SAProbeNC) ctx, idx, m0, nb));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAProbeSectionDestroy(void **ctx)
{
  SAProbeNC x = (SAProbeNC) *ctx;

  PetscFunctionBeginUser;
  PetscCall(SAProbeResultsDestroy(&x));
  *ctx = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

const SAResultsSection SAResultsSections[SA_RESULTS_NSECTIONS] = {
  {"probes", SAProbeSectionDefine, SAProbeSectionPut, SAProbeSectionDestroy},
  {"lyap", SALyapResultsDefine, SALyapResultsPut, SALyapResultsDestroy},
};
