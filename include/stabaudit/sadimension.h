/*
  sadimension.h - the stability dimensions of a perturbation and their names, shared by the perturbations (perturb/),
  the analysis (analysis/) and the campaign layer (jobs/): the lowest layer all of them use (docs/perturbations.md).
*/
#pragma once
#include <stabaudit/sasys.h>

/* the four stability dimensions (0 = unperturbed twin) */
typedef enum {
  SA_DIM_NONE            = 0,
  SA_DIM_OPTIMIZATION    = 1,
  SA_DIM_ENVIRONMENT     = 2,
  SA_DIM_PARAMETRIC      = 3,
  SA_DIM_LEARNING_SIGNAL = 4
} SADimension;
PETSC_EXTERN const char *const SADimensions[];
