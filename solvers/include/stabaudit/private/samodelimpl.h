#pragma once
#include <stabaudit/samodel.h>

#define SA_MODEL_MAXL 16

struct _SAModelOps {
  PetscErrorCode (*setfromoptions)(SAModel);                      /* reads -model_* */
  PetscErrorCode (*setup)(SAModel);                               /* widths, offsets, P from nin/nout */
  PetscErrorCode (*initialguess)(SAModel, const SAStream *, Vec); /* theta_0 on its layout */
  PetscErrorCode (*workspace)(SAModel, PetscInt, size_t *);       /* doubles of kernel workspace for B rows */
  PetscErrorCode (*forward)(SAModel, PetscReal[], const PetscReal[], const PetscReal[], const int[],
                            const PetscReal *const[], PetscInt, PetscReal *);
  PetscErrorCode (*backward)(SAModel, PetscReal[], const PetscReal[], const PetscReal[], const int[],
                             const PetscReal *const[], PetscInt, PetscReal[]);
  PetscErrorCode (*hessianmult)(SAModel, PetscReal[], const PetscReal[], const PetscReal[], const PetscReal[],
                                const int[], const PetscReal *const[], PetscInt, PetscReal[]);
  PetscErrorCode (*correct)(SAModel, const PetscReal[], const int[], PetscInt, PetscInt *);
  PetscErrorCode (*hidden)(SAModel, const PetscReal[], PetscInt, PetscReal[]);
  PetscErrorCode (*view)(SAModel, PetscViewer);
  PetscErrorCode (*destroy)(SAModel);
};

struct _p_SAModel {
  MPI_Comm           comm;                    /* the member's group communicator */
  char               type_name[64];           /* registered type */
  struct _SAModelOps ops;                     /* the implementation */
  PetscInt           nin, nout;               /* input features, outputs (classes) */
  PetscInt           L;                       /* layers with weights */
  int                w[SA_MODEL_MAXL + 2];    /* widths w[0] (inputs) ... w[L] (outputs) */
  size_t             offW[SA_MODEL_MAXL + 1]; /* offW[l-1]: offset of W_l in theta */
  size_t             offb[SA_MODEL_MAXL + 1]; /* offb[l-1]: offset of b_l in theta */
  PetscInt           P;                       /* parameters */
  PetscReal          dropout;                 /* dropout probability on hidden units (0 = none) */
  PetscBool          setupcalled;             /* SAModelSetUp() done */
  const PetscReal   *sig_scale;               /* output-signal modifier of backward and HVP: per-row factor, or NULL */
  const PetscReal   *sig_add;                 /* and (B, nout) added term, or NULL (SAModelSetSignalModifier) */
  void              *data;                    /* implementation context */
};

PETSC_INTERN PetscLogEvent  SAMODEL_Forward, SAMODEL_Backward, SAMODEL_HessianMult;
PETSC_INTERN PetscErrorCode SAModelCreate_MLP(SAModel);
