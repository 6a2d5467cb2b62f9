/*
  salyapimpl.h - the SALyap struct (analysis/stability/lyapunov.c). SALyap is a full PetscObject (PETSCHEADER first:
  reference count, options prefix, -lyap_view); STYLE.md B.2 warns that this ties the code to PETSc's private header
  petsc/private/petscimpl.h: the architecture issue asks for it, and only this layer-private header includes it.
*/
#pragma once
#include <stabaudit/saanalysis.h>
#include <petsc/private/petscimpl.h>

/* the accumulator has one implementation; PETSCHEADER needs an ops table */
struct _SALyapOps {
  PetscErrorCode (*view)(SALyap, PetscViewer);
};

struct _p_SALyap {
  PETSCHEADER(struct _SALyapOps); /* comm: the member's group communicator (that of the Jacobians) */
  PetscInt   k;                   /* exponents */
  PetscInt   every;               /* QR interval */
  PetscInt   transient;           /* steps not counted */
  PetscInt   steps;               /* steps taken */
  PetscInt   counted;             /* steps counted */
  PetscInt64 seed, mseed;         /* stream of the initial tangents: (seed, mseed, SA_STREAM_ANALYSIS) */
  PetscBool  failed;              /* a tangent norm was zero or not finite: accumulation stopped */
  Vec       *Q, *W;               /* k tangents and their images */
  PetscReal *logsum;              /* k sums of log R_ii */
};
