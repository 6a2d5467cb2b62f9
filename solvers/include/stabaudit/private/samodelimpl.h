/*
  samodelimpl.h - private struct of SAModel (train layer only). SAModel is a PetscObject (like KSP): its struct starts
  with PETSCHEADER, which needs PETSc's private header petsc/private/petscimpl.h, included here and nowhere else in
  the model. The base holds only what every model type has (parameters, input and output sizes, the learning-signal
  modifier, the key prefix of its deck section); a type's layout (an mlp's widths and offsets, its dropout) is in its
  own data.
*/
#pragma once
#include <petsc/private/petscimpl.h>
#include <stabaudit/samodel.h>

struct _SAModelOps {
  PetscErrorCode (*setfromoptions)(SAModel);                      /* reads <prefix>model_* (model->deckprefix) */
  PetscErrorCode (*setup)(SAModel);                               /* its layout and P from nin/nout */
  PetscErrorCode (*initialguess)(SAModel, const SAStream *, Vec); /* theta_0 on its layout */
  PetscErrorCode (*workspace)(SAModel, PetscInt, size_t *);       /* doubles of kernel workspace for n samples */
  PetscErrorCode (*forward)(SAModel, PetscReal[], const PetscReal[], const SAModelBatch *, PetscReal *);
  PetscErrorCode (*backward)(SAModel, PetscReal[], const PetscReal[], const SAModelBatch *, PetscReal[]);
  PetscErrorCode (*hessianmult)(SAModel, PetscReal[], const PetscReal[], const PetscReal[], const SAModelBatch *,
                                PetscReal[]);
  PetscErrorCode (*correct)(SAModel, const PetscReal[], const SAModelBatch *, PetscInt *);
  PetscErrorCode (*hidden)(SAModel, const PetscReal[], const SAModelBatch *, PetscReal[]);
  PetscErrorCode (*view)(SAModel, PetscViewer);
  PetscErrorCode (*destroy)(SAModel); /* frees data and removes the type's composed functions */
};

struct _p_SAModel {
  PETSCHEADER(struct _SAModelOps);
  PetscInt         nin, nout;       /* input features, outputs (classes) */
  PetscInt         P;               /* parameters */
  PetscBool        setupcalled;     /* SAModelSetUp() done */
  char             deckprefix[256]; /* object prefix + "model_": the section of its deck keys (SAModelSetFromOptions) */
  const PetscReal *sig_scale;       /* output-signal modifier of backward and HVP: per-sample factor, or NULL */
  const PetscReal *sig_add;         /* and (n, nout) added term, or NULL (SAModelSetSignalModifier) */
  void            *data;            /* implementation context */
};

PETSC_INTERN PetscLogEvent  SAMODEL_Forward, SAMODEL_Backward, SAMODEL_HessianMult;
PETSC_INTERN PetscErrorCode SAModelCreate_MLP(SAModel);
PETSC_INTERN PetscErrorCode SAModelCheckBatchType_Private(SAModel, const SAModelBatch *, const char[]);
