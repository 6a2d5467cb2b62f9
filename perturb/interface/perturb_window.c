/*
  perturb_window.c - a perturbation's magnitude, window (onset, duration, shape) and envelope, dimension, seeds and
  view (perturb.c holds the object, its registry and deck keys).
*/
#include <stabaudit/private/saperturbimpl.h>
#include <stabaudit/sadeck.h>
#include <stdarg.h>
#include <stdio.h>

/*@C
  SAPerturbSetMagnitude - Sets the magnitude of this member

  Logically Collective

  Input Parameters:
+ p - the perturbation
- m - the magnitude, in the kind's range

  Level: beginner

.seealso: `SAPerturbGetMagnitude()`
@*/
PetscErrorCode SAPerturbSetMagnitude(SAPerturb p, PetscReal m)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  PetscValidLogicalCollectiveReal(p, m, 2);
  PetscCheck(m >= p->mag_lo && m <= p->mag_hi, PetscObjectComm((PetscObject) p), PETSC_ERR_ARG_OUTOFRANGE,
             "Magnitude %g of %s out of [%g, %g]", (double) m,
             ((PetscObject) p)->type_name ? ((PetscObject) p)->type_name : "(no kind)", (double) p->mag_lo,
             (double) p->mag_hi);
  p->magnitude = m;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbGetMagnitude - Returns the magnitude of this member

  Not Collective

  Input Parameter:
. p - the perturbation

  Output Parameter:
. m - the magnitude

  Level: beginner

.seealso: `SAPerturbSetMagnitude()`
@*/
PetscErrorCode SAPerturbGetMagnitude(SAPerturb p, PetscReal *m)
{
  PetscFunctionBeginUser;
  *m = p->magnitude;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbGetMagnitudes - Returns the swept magnitudes of the block

  Not Collective

  Input Parameter:
. p - the perturbation

  Output Parameters:
+ n    - their number
- mags - the values (owned by p)

  Level: intermediate

.seealso: `SAPerturbSetFromOptions()`
@*/
PetscErrorCode SAPerturbGetMagnitudes(SAPerturb p, PetscInt *n, const PetscReal **mags)
{
  PetscFunctionBeginUser;
  *n    = p->nmag;
  *mags = p->mags;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbSetWindow - Sets onset, duration and shape

  Logically Collective

  Input Parameters:
+ p        - the perturbation
. onset    - first perturbed step
. duration - 1 pulse, n window, -1 persistent
- shape    - envelope

  Level: intermediate

.seealso: `SAPerturbGetWindow()`, `SAPerturbGetEnvelope()`
@*/
PetscErrorCode SAPerturbSetWindow(SAPerturb p, PetscInt onset, PetscInt duration, SAPerturbShape shape)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  PetscCheck(onset >= 0 && (duration == -1 || duration >= 1), PetscObjectComm((PetscObject) p),
             PETSC_ERR_ARG_OUTOFRANGE, "Bad window: onset %" PetscInt_FMT ", duration %" PetscInt_FMT, onset, duration);
  p->onset    = onset;
  p->duration = duration;
  p->shape    = shape;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbGetWindow - Returns onset, duration and shape

  Not Collective

  Input Parameter:
. p - the perturbation

  Output Parameters:
+ onset    - first perturbed step
. duration - 1 pulse, n window, -1 persistent
- shape    - envelope

  Level: intermediate

.seealso: `SAPerturbSetWindow()`
@*/
PetscErrorCode SAPerturbGetWindow(SAPerturb p, PetscInt *onset, PetscInt *duration, SAPerturbShape *shape)
{
  PetscFunctionBeginUser;
  if (onset) *onset = p->onset;
  if (duration) *duration = p->duration;
  if (shape) *shape = p->shape;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbGetDimension - Returns the stability dimension of the kind

  Not Collective

  Input Parameter:
. p - the perturbation

  Output Parameter:
. dim - the dimension

  Level: beginner

.seealso: `SADimension`
@*/
PetscErrorCode SAPerturbGetDimension(SAPerturb p, SADimension *dim)
{
  PetscFunctionBeginUser;
  *dim = p->dimension;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbSetSeeds - Keys the perturbation's own stream (kick directions, ...)

  Logically Collective

  Input Parameters:
+ p             - the perturbation
. campaign_seed - campaign seed
- member_seed   - member seed (the same for every magnitude, so magnitudes share directions)

  Level: intermediate

.seealso: `SAStreamCreate()`
@*/
PetscErrorCode SAPerturbSetSeeds(SAPerturb p, PetscInt64 campaign_seed, PetscInt64 member_seed)
{
  PetscInt64 h;

  PetscFunctionBeginUser;
  PetscCall(SAStreamHashString(SAPerturbPrefix(p), &h));
  PetscCall(SAStreamCreate(campaign_seed ^ h, member_seed, SA_STREAM_PERTURB, &p->rng));
  p->pkey = campaign_seed ^ h;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbGetEnvelope - The envelope of the perturbation at a step: 0 outside its window

  Not Collective

  Input Parameters:
+ p    - the perturbation
- step - the step

  Output Parameter:
. env - in [0, 1]: 1 inside the window for shape step; (k+1)/duration at the k-th step of a ramp
        (ramping over tau steps when persistent); exp(-k/tau) for exp

  Level: intermediate

.seealso: `SAPerturbSetWindow()`
@*/
PetscErrorCode SAPerturbGetEnvelope(SAPerturb p, PetscInt step, PetscReal *env)
{
  PetscInt k = step - p->onset;

  PetscFunctionBeginUser;
  *env = 0.0;
  if (k < 0 || (p->duration > 0 && k >= p->duration)) PetscFunctionReturn(PETSC_SUCCESS);
  switch (p->shape) {
  case SA_SHAPE_STEP: *env = 1.0; break;
  case SA_SHAPE_RAMP: *env = PetscMin(1.0, (k + 1.0) / (p->duration > 0 ? (PetscReal) p->duration : p->tau)); break;
  case SA_SHAPE_EXP: *env = PetscExpReal(-k / p->tau); break;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbView - Prints the perturbation: block, kind, dimension, magnitudes, window and the kind's options

  Collective

  Input Parameters:
+ p      - the perturbation
- viewer - an ASCII viewer (NULL for `PETSC_VIEWER_STDOUT_()` of its communicator); other viewers print nothing

  Options Database Key:
. -<block>_perturb_view - calls `SAPerturbView()` at the end of `SAPerturbSetFromOptions()`

  Level: beginner

.seealso: `SAPerturbCreate()`, `SAPerturbSetFromOptions()`
@*/
PetscErrorCode SAPerturbView(SAPerturb p, PetscViewer viewer)
{
  const char *name, *kind;
  PetscBool   ascii;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(PetscObjectComm((PetscObject) p), &viewer));
  PetscValidHeaderSpecific(viewer, PETSC_VIEWER_CLASSID, 2);
  PetscCheckSameComm(p, 1, viewer, 2);
  PetscCall(PetscObjectTypeCompare((PetscObject) viewer, PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SAPerturbGetName(p, &name));
  kind = ((PetscObject) p)->type_name ? ((PetscObject) p)->type_name : "(not set)";
  PetscCall(PetscObjectPrintClassNamePrefixType((PetscObject) p, viewer));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer, "block %s, kind %s, dimension %s\n", name[0] ? name : "(none)", kind,
                                   SADimensions[p->dimension]));
  PetscCall(PetscViewerASCIIPrintf(viewer, "magnitude %g in [%g, %g]", (double) p->magnitude, (double) p->mag_lo,
                                   (double) p->mag_hi));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
  if (p->nmag) {
    PetscCall(PetscViewerASCIIPrintf(viewer, ", swept"));
    for (PetscInt i = 0; i < p->nmag; i++) PetscCall(PetscViewerASCIIPrintf(viewer, " %g", (double) p->mags[i]));
  }
  PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  PetscCall(PetscViewerASCIIPrintf(viewer, "window: onset %" PetscInt_FMT ", duration %" PetscInt_FMT "%s, shape %s",
                                   p->onset, p->duration, p->duration < 0 ? " (persistent)" : "",
                                   SAPerturbShapes[p->shape]));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
  if (p->shape == SA_SHAPE_EXP || (p->shape == SA_SHAPE_RAMP && p->duration < 0))
    PetscCall(PetscViewerASCIIPrintf(viewer, ", tau %g", (double) p->tau));
  PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  if (p->ops->view) PetscCall((*p->ops->view)(p, viewer));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}
