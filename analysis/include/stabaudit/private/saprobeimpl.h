/*
  saprobeimpl.h - the SAProbe struct and what the files of analysis/probes share: probe.c (create, deck keys, setters,
  layout, schedule, view, destroy), probe_compute.c (the solves and estimates of one row), probe_member.c (the member's
  record and solver monitor), probe_io.c (the checkpoint part); results.nc's probe columns are jobs/io/results_probes.c.
  SAProbe is a full PetscObject (PETSCHEADER first: reference count, options prefix, -probe_view); STYLE.md B.2 warns
  that this ties the code to PETSc's private header petsc/private/petscimpl.h: the architecture issue asks for it, and
  only this layer-private header includes it.
*/
#pragma once
#include <stabaudit/saprobe.h>
#include <petsc/private/petscimpl.h>

/* column indices */
enum {
  SA_PROBE_C_STEP,
  SA_PROBE_C_EIG,
  SA_PROBE_C_RES,
  SA_PROBE_C_HVPS,
  SA_PROBE_C_ITS,
  SA_PROBE_C_EIGMIN,
  SA_PROBE_C_SHARP,
  SA_PROBE_C_RATIO,
  SA_PROBE_C_TRACE,
  SA_PROBE_C_TRACE_SE,
  SA_PROBE_C_JRADIUS,
  SA_PROBE_C_JRE,
  SA_PROBE_C_JIM,
  SA_PROBE_C_JSV,
  SA_PROBE_C_DENSITY,
  SA_PROBE_C_COUNT
};

/* the probe has one implementation; PETSCHEADER needs an ops table */
struct _SAProbeOps {
  PetscErrorCode (*view)(SAProbe, PetscViewer);
};

struct _p_SAProbe {
  PETSCHEADER(struct _SAProbeOps); /* comm: the member's group communicator */
  PetscBool     kind[SA_PROBE_NKINDS];
  PetscInt      every;             /* probe every K steps (0 = never on a period) */
  PetscBool     at_onset, at_end;  /* also at the perturbation onset / the last step */
  PetscInt      nev;               /* k */
  PetscReal     tol;               /* EPS/SVD relative tolerance */
  PetscInt      maxit;             /* EPS/SVD maximum iterations */
  PetscInt      batch;             /* probe batch: > 0 samples, -1 full training set */
  PetscBool     warm;              /* warm start the Hessian solves */
  PetscInt      ntrace;            /* Hutchinson vectors */
  PetscInt      nslq, mslq;        /* SLQ vectors and Lanczos steps */
  PetscInt      ngrid;             /* density grid points */
  PetscReal     gmin, gmax, sigma; /* density grid range and Gaussian width */
  PetscReal    *grid;              /* the grid */
  PetscInt64    campaign_seed, member_seed;
  SAProbeColumn col[SA_PROBE_C_COUNT]; /* the row layout */
  PetscInt      rowlen;                /* entries per row */
  Vec           wtop[64], wbot[64];    /* warm-start vectors of the top and bottom Hessian solves */
  PetscInt      ntop, nbot;            /* how many are valid */
  Vec           wpre;                  /* warm start of the preconditioned sharpness solve */
  PetscBool     setup;
  /* the member's record (SAProbeSetMember): one row per scheduled step, in step order */
  PetscInt   nsteps, onset; /* the member's last step and perturbation onset (-1: none) */
  PetscInt   nrows;         /* scheduled probes */
  PetscInt  *rowstep;       /* their steps */
  PetscReal *rows;          /* nrows x rowlen, fill value until computed */
};

/* log events (probe.c, SAProbeInitializePackage()) */
PETSC_INTERN PetscLogEvent SAPROBE_Compute, SAPROBE_Solve;

/* the options prefix (if any) followed by sec, e.g. "actor_" + "probe_": deck keys and SLEPc solver prefixes (probe.c)
 */
PETSC_INTERN PetscErrorCode SAProbeDeckSection_Private(SAProbe, const char[], char[], size_t);
/* the row layout and density grid (probe.c) */
PETSC_INTERN PetscErrorCode SAProbeLayout_Private(SAProbe);
/* the row of one step, with the solver's step Jacobian when solver is not NULL (probe_compute.c) */
PETSC_INTERN PetscErrorCode SAProbeComputeRow_Private(SAProbe, SASolver, SATask, SAOptimizer, Vec, PetscInt,
                                                      const SAHyper *, PetscReal[]);
