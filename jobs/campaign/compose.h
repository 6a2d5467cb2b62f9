/*
  compose.h - the campaign layer's internal composition of a member (compose.c).
*/
#pragma once
#include <stabaudit/sacampaign.h>

PETSC_INTERN PetscErrorCode SACampaignBuild_Private(SACampaign, MPI_Comm, const PetscReal *, PetscInt, PetscInt,
                                                    PetscReal, SAProbe *, SALyap *, SASolver *);
