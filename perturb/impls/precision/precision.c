/*
  precision.c - SAPERTURBPRECISION (dimension: parametric).

  Method card: at every step of the window, before the step (that is, after the previous update), every parameter is
  rounded to nearest-even in a reduced floating-point format: option format bfloat16 (8 exponent bits, emin -126,
  emax 127) or float16 (5 exponent bits, emin -14, emax 15, subnormals, overflow to +-inf, which the run then records
  as a divergence), with m explicit mantissa bits (the magnitude: 7 is bfloat16, 10 is float16; fewer bits stress
  further). Mixed-precision stress; the envelope only selects the window. Default: persistent. Magnitudes: integers
  in [1, 52]. The format is also set with SAPerturbPrecisionSetFormat() (a composed function,
  "SAPerturbPrecisionSetFormat_C").
*/
#include <stabaudit/private/saperturbimpl.h>
#include <stabaudit/sadeck.h>
#include <math.h>

static const char *const SAPrecisionFormats[] = {"bfloat16", "float16"};

typedef struct {
  PetscInt format; /* 0 bfloat16, 1 float16 */
} SAPerturb_Precision;

/*@C
  SAPerturbRoundToFormat - Rounds a double to nearest-even in a binary floating-point format

  Not Collective

  Input Parameters:
+ x    - the value
. bits - explicit mantissa bits (7 for bfloat16, 10 for float16, 23 for float32)
. emin - smallest normal exponent (-126 for bfloat16/float32, -14 for float16); smaller values are subnormal
- emax - largest exponent (127 bfloat16/float32, 15 float16); values that round above the largest finite number
         become +-infinity

  Output Parameter:
. y - the rounded value (NaN and infinities are returned unchanged)

  Level: developer

.seealso: `SAPERTURBPRECISION`
@*/
PetscErrorCode SAPerturbRoundToFormat(PetscReal x, PetscInt bits, PetscInt emin, PetscInt emax, PetscReal *y)
{
  int       e;
  PetscReal q, r, big;

  PetscFunctionBeginUser;
  if (x == 0 || PetscIsInfOrNanReal(x)) {
    *y = x;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  (void) frexp(x, &e);                                    /* |x| = f 2^e, f in [0.5, 1): exponent of x is e - 1 */
  q   = ldexp(1.0, (int) (PetscMax(e - 1, emin) - bits)); /* the spacing of the format at x */
  r   = nearbyint(x / q) * q;                             /* ties to even in the default rounding mode */
  big = ldexp(2.0 - ldexp(1.0, (int) -bits), (int) emax);
  *y  = PetscAbsReal(r) > big
          ? (x > 0 ? (PetscReal) INFINITY : (PetscReal) -INFINITY) /* not PETSC_INFINITY, a finite value */
          : r;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbParams_Precision(SAPerturb p, PetscInt step, PetscReal env, Vec theta)
{
  SAPerturb_Precision *k    = (SAPerturb_Precision *) p->data;
  PetscInt             emin = k->format ? -14 : -126, emax = k->format ? 15 : 127, n;
  PetscScalar         *a;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(theta, &n));
  PetscCall(VecGetArray(theta, &a));
  for (PetscInt i = 0; i < n; i++) PetscCall(SAPerturbRoundToFormat(a[i], (PetscInt) p->magnitude, emin, emax, &a[i]));
  PetscCall(VecRestoreArray(theta, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbSetFromOptions_Precision(SAPerturb p)
{
  SAPerturb_Precision *k = (SAPerturb_Precision *) p->data;

  PetscFunctionBeginUser;
  PetscCall(SADeckGetEnum(SAPerturbPrefix(p), "format", SAPrecisionFormats, 2, &k->format, NULL));
  for (PetscInt i = 0; i < p->nmag; i++)
    if (p->mags[i] != PetscFloorReal(p->mags[i]))
      PetscCall(SAPerturbFailKind(p, "magnitudes are mantissa bits and must be integers in [1, 52], got %g",
                                  (double) p->mags[i]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbView_Precision(SAPerturb p, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "precision: format %s\n",
                                   SAPrecisionFormats[((SAPerturb_Precision *) p->data)->format]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbPrecisionSetFormat_Precision(SAPerturb p, const char format[])
{
  SAPerturb_Precision *k     = (SAPerturb_Precision *) p->data;
  PetscBool            match = PETSC_FALSE;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < 2 && !match; i++) {
    PetscCall(PetscStrcmp(format, SAPrecisionFormats[i], &match));
    if (match) k->format = i;
  }
  PetscCheck(match, PetscObjectComm((PetscObject) p), PETSC_ERR_ARG_OUTOFRANGE,
             "precision format '%s' is not one of bfloat16, float16", format);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbPrecisionGetFormat_Precision(SAPerturb p, const char **format)
{
  PetscFunctionBeginUser;
  *format = SAPrecisionFormats[((SAPerturb_Precision *) p->data)->format];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbPrecisionSetFormat - Sets the reduced floating-point format of a precision perturbation

  Logically Collective

  Input Parameters:
+ p      - the perturbation
- format - "bfloat16" (the default: exponent range of float32) or "float16" (exponent range of IEEE half precision,
           subnormals, overflow to infinity)

  Options Database Key:
. -<block>_format <bfloat16|float16> - deck key format of the block

  Notes:
  The magnitude stays the number of explicit mantissa bits. Does nothing unless the kind is precision
  (`PetscTryMethod()`).

  Level: intermediate

.seealso: `SAPERTURBPRECISION`, `SAPerturbPrecisionGetFormat()`, `SAPerturbRoundToFormat()`
@*/
PetscErrorCode SAPerturbPrecisionSetFormat(SAPerturb p, const char format[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  PetscValidCharPointer(format, 2);
  PetscTryMethod(p, "SAPerturbPrecisionSetFormat_C", (SAPerturb, const char[]), (p, format));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbPrecisionGetFormat - Returns the reduced floating-point format of a precision perturbation

  Not Collective

  Input Parameter:
. p - the perturbation, of kind precision (another kind is an error)

  Output Parameter:
. format - "bfloat16" or "float16" (a static string)

  Level: intermediate

.seealso: `SAPERTURBPRECISION`, `SAPerturbPrecisionSetFormat()`
@*/
PetscErrorCode SAPerturbPrecisionGetFormat(SAPerturb p, const char **format)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  PetscValidPointer(format, 2);
  PetscUseMethod(p, "SAPerturbPrecisionGetFormat_C", (SAPerturb, const char **), (p, format));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbDestroy_Precision(SAPerturb p)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(p->data));
  PetscCall(PetscObjectComposeFunction((PetscObject) p, "SAPerturbPrecisionSetFormat_C", NULL));
  PetscCall(PetscObjectComposeFunction((PetscObject) p, "SAPerturbPrecisionGetFormat_C", NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_Precision(SAPerturb p)
{
  SAPerturb_Precision *k;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&k));
  p->data                = k;
  p->dimension           = SA_DIM_PARAMETRIC;
  p->mag_lo              = 1;
  p->mag_hi              = 52;
  p->duration            = -1;
  p->ops->params         = SAPerturbParams_Precision;
  p->ops->setfromoptions = SAPerturbSetFromOptions_Precision;
  p->ops->view           = SAPerturbView_Precision;
  p->ops->destroy        = SAPerturbDestroy_Precision;
  PetscCall(PetscObjectComposeFunction((PetscObject) p, "SAPerturbPrecisionSetFormat_C",
                                       SAPerturbPrecisionSetFormat_Precision));
  PetscCall(PetscObjectComposeFunction((PetscObject) p, "SAPerturbPrecisionGetFormat_C",
                                       SAPerturbPrecisionGetFormat_Precision));
  PetscFunctionReturn(PETSC_SUCCESS);
}
