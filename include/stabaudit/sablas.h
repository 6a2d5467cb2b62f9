/*
  sablas.h - which BLAS the process runs, and selection of the OpenBLAS kernel set (core) the CPU supports.

  These two functions are plain C, not PETSc-style: SABlasSelectCore() must run before PetscInitialize() /
  SlepcInitialize() / MPI_Init() (it may replace the process image), so it cannot use PetscCall or MPI.
*/
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/* environment marker set together with OPENBLAS_CORETYPE before the re-exec (loop guard and provenance) */
#define SA_BLAS_MARKER_ENV "SA_BLAS_CORETYPE_SET"

int         SABlasSelectCore(int, char **);
const char *SABlasDescribe(void);

#ifdef __cplusplus
}
#endif
