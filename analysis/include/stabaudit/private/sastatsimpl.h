/*
  sastatsimpl.h - what stats.c and stats_rank.c share.
*/
#pragma once
#include <stabaudit/saanalysis.h>

PETSC_INTERN int SACompareReal_Private(const void *, const void *); /* qsort comparator of PetscReal, ascending */
