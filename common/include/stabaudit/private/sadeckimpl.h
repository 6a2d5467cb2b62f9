/*
  sadeckimpl.h - what deck.c (loading, roles, the record, unknown keys, the resolved deck) and deck_get.c (the typed
  getters) share.
*/
#pragma once
#include <stabaudit/sadeck.h>

#define SA_DECK_VALUE_LEN 1024 /* longest value a key may hold */

PETSC_INTERN char           SADeckFile[PETSC_MAX_PATH_LEN];     /* the deck file, "" without one */
PETSC_INTERN const char    *SADeckOrigin_Private(const char[]); /* the deck file or "the command line" */
PETSC_INTERN PetscErrorCode SADeckRecord_Private(const char[], const char[], const char[]); /* records a key read */
