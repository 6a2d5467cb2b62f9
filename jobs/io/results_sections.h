/*
  results_sections.h - the column sections of results.nc that the solver's monitors describe (jobs/io/): each section
  defines its dimensions and variables when the deck turns its monitor on, and writes a block of members from the
  shards. results.c calls them in this order after its own variables.
*/
#pragma once
#include <stabaudit/saio.h>

typedef struct {
  const char *name;
  /* define mode: defines the section's dimensions and variables; *ctx stays NULL when the deck has no such monitor */
  PetscErrorCode (*define)(int ncid, SACampaign c, int dmem, void **ctx);
  /* data mode, collective: members m0 .. m0 + nb - 1 from the shards */
  PetscErrorCode (*put)(MPI_Comm comm, int ncid, void *ctx, const SAShardIndex *idx, PetscInt m0, PetscInt nb);
  PetscErrorCode (*destroy)(void **ctx);
} SAResultsSection;

#define SA_RESULTS_NSECTIONS 2
PETSC_INTERN const SAResultsSection SAResultsSections[SA_RESULTS_NSECTIONS];
