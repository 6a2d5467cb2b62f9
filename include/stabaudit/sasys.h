/*
  sasys.h - the one compatibility header of stabaudit: PETSc version shims, wrappers for
  third-party calls (netCDF, HDF5) and the package-level entry points.
*/
#pragma once
#include <petscsys.h>
#include <petscvec.h>
#include <netcdf.h>
#include <hdf5.h>

#if PETSC_VERSION_LT(3, 19, 0)
#  define PETSC_SUCCESS ((PetscErrorCode) 0)
#endif
#if PETSC_VERSION_LT(3, 20, 0)
#  define PetscAssertPointer(h, arg) \
    PetscCheck((h) != NULL, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null pointer: argument %d", (int) (arg))
#endif
#if PETSC_VERSION_LT(3, 22, 0)
/* VecGetState() is public from 3.22 (PETSc MR 7470); before, PetscObjectStateGet() is exported by libpetsc but
   declared only in petsc/private/petscimpl.h */
PETSC_EXTERN PetscErrorCode PetscObjectStateGet(PetscObject, PetscObjectState *);
#  define VecGetState(v, state) PetscObjectStateGet((PetscObject) (v), (state))
#endif
#if PETSC_VERSION_LT(3, 24, 0)
typedef void (*SAMatOpFn)(void); /* MatShellSetOperation() cast target up to 3.23 */
#else
typedef PetscErrorCodeFn *SAMatOpFn; /* 3.24 changed it (doc/changes/324.md) */
#endif

PETSC_EXTERN const char *SAH5ErrorMessage(void);

/*MC
  SACallNC - Calls a netCDF function and turns a failure into a PETSc error carrying nc_strerror()

  Synopsis:
  #include <stabaudit/sasys.h>
  void SACallNC(func, (args))

  Not Collective

  Level: developer

.seealso: `SACallH5()`, `SACallH5Return()`
M*/
#define SACallNC(func, args)                                                                                    \
  do {                                                                                                          \
    int sa_nc_status_;                                                                                          \
    PetscStackPushExternal(#func);                                                                              \
    sa_nc_status_ = func args;                                                                                  \
    PetscStackPop;                                                                                              \
    PetscCheck(sa_nc_status_ == NC_NOERR, PETSC_COMM_SELF, PETSC_ERR_LIB, "%s() failed: %s (netCDF %s)", #func, \
               nc_strerror(sa_nc_status_), nc_inq_libvers());                                                   \
  } while (0)

/*MC
  SACallH5 - Calls an HDF5 function returning herr_t and turns a negative status into a PETSc error

  Level: developer

.seealso: `SACallNC()`, `SACallH5Return()`
M*/
#define SACallH5(func, args)                                                                                 \
  do {                                                                                                       \
    herr_t sa_h5_status_;                                                                                    \
    PetscStackPushExternal(#func);                                                                           \
    sa_h5_status_ = func args;                                                                               \
    PetscStackPop;                                                                                           \
    PetscCheck(sa_h5_status_ >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "%s() failed: %s (HDF5 %d.%d.%d)", #func, \
               SAH5ErrorMessage(), H5_VERS_MAJOR, H5_VERS_MINOR, H5_VERS_RELEASE);                           \
  } while (0)

/*MC
  SACallH5Return - Calls an HDF5 function returning hid_t, stores it in id and checks it is valid

  Level: developer

.seealso: `SACallNC()`, `SACallH5()`
M*/
#define SACallH5Return(id, func, args)                                                              \
  do {                                                                                              \
    PetscStackPushExternal(#func);                                                                  \
    (id) = func args;                                                                               \
    PetscStackPop;                                                                                  \
    PetscCheck((id) >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "%s() failed: %s (HDF5 %d.%d.%d)", #func, \
               SAH5ErrorMessage(), H5_VERS_MAJOR, H5_VERS_MINOR, H5_VERS_RELEASE);                  \
  } while (0)

/* Outcome of a training run: numerical failure is data, not an error (STYLE.md B.1) */
typedef enum {
  SA_CONVERGED_ITERATING    = 0,
  SA_CONVERGED_MAX_STEPS    = 1,
  SA_DIVERGED_NAN           = -1,
  SA_DIVERGED_LOSS_EXPLODED = -2
} SAConvergedReason;
PETSC_EXTERN const char *const SAConvergedReasons[];
PETSC_EXTERN PetscErrorCode    SAConvergedReasonToString(SAConvergedReason, const char **);

PETSC_EXTERN PetscErrorCode SAInitialize(void);
PETSC_EXTERN PetscErrorCode SAFinalize(void);
PETSC_EXTERN PetscErrorCode SAGetVersion(char[], size_t);
PETSC_EXTERN PetscErrorCode SAGetProvenance(char[], size_t);
PETSC_EXTERN PetscErrorCode SAGetGitSha(const char **);
PETSC_EXTERN PetscErrorCode SAFileWriteAtomic(const char[], const char[], size_t);
PETSC_EXTERN PetscErrorCode SAFileSync(const char[]);
PETSC_EXTERN PetscErrorCode SAFileTmpName(const char[], char[], size_t);
PETSC_EXTERN PetscErrorCode SAFileCommit(MPI_Comm, const char[], const char[]);
PETSC_EXTERN PetscErrorCode SAFunctionListGetNames(PetscFunctionList, PetscInt *, const char ***);
PETSC_EXTERN PetscErrorCode SAObjectViewHeader(PetscObject, PetscViewer);
PETSC_EXTERN PetscErrorCode SAObjectDestroyCtx(void **);
PETSC_EXTERN PetscErrorCode SAConfigLabelShorten(const char[], char[], size_t);
PETSC_EXTERN PetscErrorCode SANCAttText(int, int, const char[], const char[]);
PETSC_EXTERN PetscErrorCode SANCDefVar(int, const char[], nc_type, int, const int[], const char[], const char[], int *);

PETSC_EXTERN PetscClassId  SA_CLASSID;
PETSC_EXTERN PetscLogEvent SA_IOWrite, SA_IORead, SA_CheckpointWrite, SA_CheckpointRead;
