/*
  probe.c - SAProbe: creation, the deck keys (section probe:) and the setters and getters, the row layout, the
  schedule, view and destroy. The measurements are in probe_compute.c (its method card describes them), the member's
  record and solver monitor in probe_member.c, the checkpoint part in probe_io.c, the matrix-free operators in
  operators.c and the trace and density estimators in quadrature.c.
*/
#include <stabaudit/private/saprobeimpl.h>
#include <stabaudit/sadeck.h>

const char *const SAProbeKinds[] = {"hessian", "sharpness", "trace", "density", "jacobian"};

PetscClassId  SAPROBE_CLASSID;
PetscLogEvent SAPROBE_Compute, SAPROBE_Solve;

/*@C
  SAProbeInitializePackage - Registers the SAProbe class and its log events

  Not Collective

  Notes:
  Called by `SAProbeCreate()`. Events: SAProbeCompute (one probe row), SAProbeSolve (each EPS or SVD solve).

  Level: developer

.seealso: `SAProbeCreate()`
@*/
PetscErrorCode SAProbeInitializePackage(void)
{
  static PetscBool done = PETSC_FALSE;

  PetscFunctionBeginUser;
  if (done) PetscFunctionReturn(PETSC_SUCCESS);
  done = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("SAProbe", &SAPROBE_CLASSID));
  PetscCall(PetscLogEventRegister("SAProbeCompute", SAPROBE_CLASSID, &SAPROBE_Compute));
  PetscCall(PetscLogEventRegister("SAProbeSolve", SAPROBE_CLASSID, &SAPROBE_Solve));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeCreate - Creates a probe (all kinds off) on a member's group communicator

  Collective

  Input Parameter:
. comm - the group communicator

  Output Parameter:
. p - the probe

  Notes:
  The probe is a `PetscObject` of class `SAPROBE_CLASSID`: `PetscObjectReference()` adds a reference,
  `SAProbeDestroy()` drops one.

  Level: beginner

.seealso: `SAProbeSetFromOptions()`, `SAProbeCompute()`, `SAProbeSetOptionsPrefix()`
@*/
PetscErrorCode SAProbeCreate(MPI_Comm comm, SAProbe *p)
{
  SAProbe q;

  PetscFunctionBeginUser;
  PetscValidPointer(p, 2);
  *p = NULL;
  PetscCall(SAProbeInitializePackage());
  PetscCall(PetscHeaderCreate(q, SAPROBE_CLASSID, "SAProbe", "Spectral probes of a member", "SAProbe", comm,
                              SAProbeDestroy, SAProbeView));
  q->every    = 0;
  q->at_onset = PETSC_TRUE;
  q->at_end   = PETSC_TRUE;
  q->nev      = 5;
  q->tol      = 1e-6;
  q->maxit    = 1000;
  q->batch    = 256;
  q->warm     = PETSC_TRUE;
  q->ntrace   = 32;
  q->nslq     = 4;
  q->mslq     = 40;
  q->ngrid    = 201;
  q->gmin     = -1.0;
  q->gmax     = 10.0;
  q->sigma    = 0.05;
  *p          = q;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the options prefix (if any) followed by sec: "actor_" + "probe_" = "actor_probe_" */
PetscErrorCode SAProbeDeckSection_Private(SAProbe p, const char sec[], char buf[], size_t len)
{
  const char *prefix;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject) p, &prefix));
  PetscCall(PetscSNPrintf(buf, len, "%s%s", prefix ? prefix : "", sec));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeSetOptionsPrefix - Sets the prefix of the probe's deck keys and options

  Logically Collective

  Input Parameters:
+ p      - the probe
- prefix - the prefix (no leading dash; NULL or "" for none)

  Notes:
  The prefix goes in front of every key: with "actor_" the probe reads -actor_probe_kinds, -actor_probe_view, and its
  SLEPc solvers -actor_probe_eps_* and -actor_probe_jac_*.

  Level: intermediate

.seealso: `SAProbeAppendOptionsPrefix()`, `SAProbeGetOptionsPrefix()`, `SAProbeSetFromOptions()`
@*/
PetscErrorCode SAProbeSetOptionsPrefix(SAProbe p, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPROBE_CLASSID, 1);
  PetscCall(PetscObjectSetOptionsPrefix((PetscObject) p, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeAppendOptionsPrefix - Appends to the prefix of the probe's deck keys and options

  Logically Collective

  Input Parameters:
+ p      - the probe
- prefix - the text to append (no leading dash)

  Level: intermediate

.seealso: `SAProbeSetOptionsPrefix()`, `SAProbeGetOptionsPrefix()`
@*/
PetscErrorCode SAProbeAppendOptionsPrefix(SAProbe p, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPROBE_CLASSID, 1);
  PetscCall(PetscObjectAppendOptionsPrefix((PetscObject) p, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeGetOptionsPrefix - Returns the prefix of the probe's deck keys and options

  Not Collective

  Input Parameter:
. p - the probe

  Output Parameter:
. prefix - the prefix (NULL when none is set; owned by the probe)

  Level: intermediate

.seealso: `SAProbeSetOptionsPrefix()`
@*/
PetscErrorCode SAProbeGetOptionsPrefix(SAProbe p, const char *prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPROBE_CLASSID, 1);
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject) p, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the row layout (columns, offsets) and the density grid from nev and the grid settings */
PetscErrorCode SAProbeLayout_Private(SAProbe p)
{
  const PetscInt k = p->nev, G = p->ngrid;
  struct {
    const char *name, *long_name, *units;
    PetscInt    len, dim;
  } c[SA_PROBE_C_COUNT] = {
    {"probe_step", "optimizer step of the probe", "1", 1, 0},
    {"hessian_eig", "largest Hessian eigenvalues of the probe-batch loss (descending)", "1", k, 1},
    {"hessian_residual", "residual norm |H x - lambda x| of the largest eigenpairs (|x| = 1)", "1", k, 1},
    {"hessian_hvps", "Hessian-vector products of the top and bottom eigen-solves", "1", 1, 0},
    {"hessian_iterations", "EPS iterations of the top and bottom eigen-solves", "1", 1, 0},
    {"hessian_eig_min", "smallest Hessian eigenvalues (ascending; negative = negative curvature)", "1", k, 1},
    {"sharpness", "lambda_max of H (sgd, momentum) or of P^-1 H (adam, adamw)", "1", 1, 0},
    {"sharpness_ratio", "edge-of-stability ratio: sharpness over the optimizer's stability threshold", "1", 1, 0},
    {"hessian_trace", "Hutchinson estimate of the Hessian trace", "1", 1, 0},
    {"hessian_trace_stderr", "standard error of the Hutchinson trace estimate", "1", 1, 0},
    {"jacobian_radius", "spectral radius of the one-step update-map Jacobian", "1", 1, 0},
    {"jacobian_eig_re", "real part of the update-map Jacobian eigenvalues of largest magnitude", "1", k, 1},
    {"jacobian_eig_im", "imaginary part of the update-map Jacobian eigenvalues of largest magnitude", "1", k, 1},
    {"jacobian_sv", "largest singular values of the update-map Jacobian (one-step amplification)", "1", k, 1},
    {"hessian_density", "SLQ spectral density of the Hessian (Gaussian-broadened)", "1", G, 2},
  };
  PetscInt off = 0;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < SA_PROBE_C_COUNT; i++) {
    p->col[i].name      = c[i].name;
    p->col[i].long_name = c[i].long_name;
    p->col[i].units     = c[i].units;
    p->col[i].offset    = off;
    p->col[i].len       = c[i].len;
    p->col[i].dim       = c[i].dim;
    off += c[i].len;
  }
  p->rowlen = off;
  PetscCall(PetscFree(p->grid));
  PetscCall(PetscMalloc1(G, &p->grid));
  for (PetscInt g = 0; g < G; g++) p->grid[g] = G > 1 ? p->gmin + (p->gmax - p->gmin) * g / (G - 1) : p->gmin;
  p->setup = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeSetFromOptions - Reads the probe section of the deck

  Collective

  Input Parameter:
. p - the probe

  Options Database Keys:
+ -probe_kinds <hessian,sharpness,trace,density,jacobian> - what to measure (default none: probes off)
. -probe_every <K>            - probe every K steps (0 = only at onset and end; default 0)
. -probe_at_onset <bool>      - also probe at the member's perturbation onset (default true)
. -probe_at_end <bool>        - also probe at the last step (default true)
. -probe_nev <k>              - eigenvalues per solve, 1..64 (default 5)
. -probe_tol <tol>            - relative tolerance of the EPS/SVD solves (default 1e-6)
. -probe_max_it <n>           - maximum iterations (default 1000)
. -probe_batch <n>            - probe batch: n > 0 samples of the probe stream, -1 the full training set (256)
. -probe_warm_start <bool>    - warm-start the Hessian solves from the previous probe (default true)
. -probe_trace_vectors <n>    - Hutchinson vectors (2..1024, default 32)
. -probe_density_vectors <n>  - SLQ vectors (1..2048, default 4)
. -probe_density_steps <m>    - Lanczos steps per SLQ vector (default 40)
. -probe_density_points <G>   - density grid points (default 201)
. -probe_density_min <a>      - grid start (default -1)
. -probe_density_max <b>      - grid end (default 10)
. -probe_density_sigma <s>    - Gaussian width (default 0.05)
- -probe_view [viewer]        - view the probe once its options are read

  Notes:
  SLEPc options of the solvers: -probe_eps_* (Hessian and sharpness), -probe_jac_eps_* and -probe_jac_svd_*
  (Jacobian). A key outside its range or an unknown kind is a deck error naming the key. With an options prefix
  (`SAProbeSetOptionsPrefix()`) every key, the SLEPc ones included, is the prefix followed by the key above.

  Level: beginner

.seealso: `SAProbeCreate()`
@*/
PetscErrorCode SAProbeSetFromOptions(SAProbe p)
{
  PetscInt  n = 0;
  char    **names;
  PetscBool set;
  char      sec[128], key[192];

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPROBE_CLASSID, 1);
  PetscCall(SAProbeDeckSection_Private(p, "probe_", sec, sizeof(sec)));
  PetscCall(SADeckGetNameArray(sec, "kinds", &n, &names, &set));
  if (set) {
    for (PetscInt k = 0; k < SA_PROBE_NKINDS; k++) p->kind[k] = PETSC_FALSE;
    for (PetscInt i = 0; i < n; i++) {
      PetscInt k;

      for (k = 0; k < SA_PROBE_NKINDS; k++)
        if (!strcmp(names[i], SAProbeKinds[k])) break;
      PetscCall(PetscSNPrintf(key, sizeof(key), "%skinds", sec));
      if (k == SA_PROBE_NKINDS)
        PetscCall(
          SADeckFail(key, "unknown kind '%s'; allowed: hessian, sharpness, trace, density, jacobian", names[i]));
      p->kind[k] = PETSC_TRUE;
    }
  }
  PetscCall(PetscStrArrayDestroy(&names)); /* allocated (empty) also when the key is not set */
  PetscCall(SADeckGetInt(sec, "every", p->every, 0, PETSC_MAX_INT, &p->every, NULL));
  PetscCall(SADeckGetBool(sec, "at_onset", p->at_onset, &p->at_onset, NULL));
  PetscCall(SADeckGetBool(sec, "at_end", p->at_end, &p->at_end, NULL));
  PetscCall(SADeckGetInt(sec, "nev", p->nev, 1, 64, &p->nev, NULL));
  PetscCall(SADeckGetReal(sec, "tol", p->tol, 1e-15, 0.1, &p->tol, NULL));
  PetscCall(SADeckGetInt(sec, "max_it", p->maxit, 1, PETSC_MAX_INT, &p->maxit, NULL));
  PetscCall(SADeckGetInt(sec, "batch", p->batch, -1, PETSC_MAX_INT, &p->batch, NULL));
  PetscCall(PetscSNPrintf(key, sizeof(key), "%sbatch", sec));
  if (p->batch == 0) PetscCall(SADeckFail(key, "must be > 0 (samples) or -1 (full training set), got 0"));
  PetscCall(SADeckGetBool(sec, "warm_start", p->warm, &p->warm, NULL));
  PetscCall(SADeckGetInt(sec, "trace_vectors", p->ntrace, 2, 1024, &p->ntrace, NULL));
  PetscCall(SADeckGetInt(sec, "density_vectors", p->nslq, 1, 2048, &p->nslq, NULL));
  PetscCall(SADeckGetInt(sec, "density_steps", p->mslq, 1, 10000, &p->mslq, NULL));
  PetscCall(SADeckGetInt(sec, "density_points", p->ngrid, 1, 100000, &p->ngrid, NULL));
  PetscCall(SADeckGetReal(sec, "density_min", p->gmin, PETSC_MIN_REAL, PETSC_MAX_REAL, &p->gmin, NULL));
  PetscCall(SADeckGetReal(sec, "density_max", p->gmax, PETSC_MIN_REAL, PETSC_MAX_REAL, &p->gmax, NULL));
  PetscCall(SADeckGetReal(sec, "density_sigma", p->sigma, PETSC_SMALL, PETSC_MAX_REAL, &p->sigma, NULL));
  PetscCall(PetscSNPrintf(key, sizeof(key), "%sdensity_max", sec));
  if (!(p->gmax > p->gmin))
    PetscCall(SADeckFail(key, "must be > %sdensity_min (%g), got %g", sec, (double) p->gmin, (double) p->gmax));
  PetscCall(SAProbeLayout_Private(p));
  PetscCall(PetscObjectViewFromOptions((PetscObject) p, NULL, "-probe_view"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeIsScheduled - Whether a step is probed

  Not Collective

  Input Parameters:
+ p      - the probe
. step   - the step t
. nsteps - the member's last step
- onset  - the member's perturbation onset (-1: none)

  Output Parameter:
. yes - whether to probe at t (never when no kind is on)

  Level: intermediate

.seealso: `SAProbeSetFromOptions()`, `SAProbeNumScheduled()`
@*/
PetscErrorCode SAProbeIsScheduled(SAProbe p, PetscInt step, PetscInt nsteps, PetscInt onset, PetscBool *yes)
{
  PetscBool any = PETSC_FALSE;

  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < SA_PROBE_NKINDS; k++) any = (PetscBool) (any || p->kind[k]);
  *yes = (PetscBool) (any && ((p->every > 0 && step % p->every == 0) || (p->at_onset && onset >= 0 && step == onset) ||
                              (p->at_end && step == nsteps)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeNumScheduled - The number of probes of a member over steps 0..nsteps

  Not Collective

  Input Parameters:
+ p      - the probe
. nsteps - the last step
- onset  - the perturbation onset (-1: none)

  Output Parameter:
. n - the number of probed steps

  Level: intermediate

.seealso: `SAProbeIsScheduled()`
@*/
PetscErrorCode SAProbeNumScheduled(SAProbe p, PetscInt nsteps, PetscInt onset, PetscInt *n)
{
  PetscFunctionBeginUser;
  *n = 0;
  for (PetscInt t = 0; t <= nsteps; t++) {
    PetscBool yes;

    PetscCall(SAProbeIsScheduled(p, t, nsteps, onset, &yes));
    if (yes) (*n)++;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeView - Prints the probe's settings (kinds, schedule, solver settings) and, once it has a member, its record

  Collective

  Input Parameters:
+ p      - the probe
- viewer - an ASCII viewer (NULL: standard output of the probe's communicator); other viewers print nothing

  Options Database Key:
. -probe_view [viewer] - view at the end of `SAProbeSetFromOptions()`

  Level: beginner

.seealso: `SAProbeCreate()`, `SAProbeSetFromOptions()`
@*/
PetscErrorCode SAProbeView(SAProbe p, PetscViewer viewer)
{
  PetscBool iascii, any = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPROBE_CLASSID, 1);
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(PetscObjectComm((PetscObject) p), &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject) viewer, PETSCVIEWERASCII, &iascii));
  if (!iascii) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SAObjectViewHeader((PetscObject) p, viewer));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer, "kinds:"));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
  for (PetscInt k = 0; k < SA_PROBE_NKINDS; k++)
    if (p->kind[k]) {
      PetscCall(PetscViewerASCIIPrintf(viewer, " %s", SAProbeKinds[k]));
      any = PETSC_TRUE;
    }
  PetscCall(PetscViewerASCIIPrintf(viewer, "%s\n", any ? "" : " none (off)"));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  PetscCall(PetscViewerASCIIPrintf(viewer, "every %" PetscInt_FMT ", at onset %s, at end %s\n", p->every,
                                   PetscBools[p->at_onset], PetscBools[p->at_end]));
  PetscCall(PetscViewerASCIIPrintf(
    viewer, "nev %" PetscInt_FMT ", tol %g, max it %" PetscInt_FMT ", batch %" PetscInt_FMT ", warm start %s\n", p->nev,
    (double) p->tol, p->maxit, p->batch, p->warm ? "on" : "off"));
  if (p->kind[SA_PROBE_TRACE])
    PetscCall(PetscViewerASCIIPrintf(viewer, "trace: %" PetscInt_FMT " Hutchinson vectors\n", p->ntrace));
  if (p->kind[SA_PROBE_DENSITY])
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "density: %" PetscInt_FMT " SLQ vectors x %" PetscInt_FMT
                                     " Lanczos steps, %" PetscInt_FMT " points on [%g, %g], sigma %g\n",
                                     p->nslq, p->mslq, p->ngrid, (double) p->gmin, (double) p->gmax,
                                     (double) p->sigma));
  if (p->rowstep)
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "member: last step %" PetscInt_FMT ", onset %" PetscInt_FMT ", %" PetscInt_FMT
                                     " scheduled probes of %" PetscInt_FMT " entries\n",
                                     p->nsteps, p->onset, p->nrows, p->rowlen));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeDestroy - Drops a reference to a probe, and destroys it when that was the last one

  Collective

  Input Parameter:
. p - the probe (may be NULL; set to NULL)

  Level: beginner

.seealso: `SAProbeCreate()`
@*/
PetscErrorCode SAProbeDestroy(SAProbe *p)
{
  PetscFunctionBeginUser;
  if (!*p) PetscFunctionReturn(PETSC_SUCCESS);
  PetscValidHeaderSpecific(*p, SAPROBE_CLASSID, 1);
  if (--((PetscObject) (*p))->refct > 0) {
    *p = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SAProbeResetWarmStart(*p));
  PetscCall(PetscFree((*p)->grid));
  PetscCall(PetscFree((*p)->rowstep));
  PetscCall(PetscFree((*p)->rows));
  PetscCall(PetscHeaderDestroy(p));
  PetscFunctionReturn(PETSC_SUCCESS);
}
