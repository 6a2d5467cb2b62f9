/*
  campaign.c - SACampaign: reads the campaign keys of a deck, validates every object a member
  will create (by composing each configuration x perturbation once, compose.c) (so that a bad deck fails before anything
  runs or is written), and expands the deck into members.

  Expansion: configurations = cartesian product of the swept axes (last axis fastest); for each
  configuration and seed one unperturbed twin, then every perturbation block x magnitude. Member
  identity is its key "c[<config label>]|s<seed>|<block>|m<magnitude>" (or "...|twin"); ids come
  from the campaign directory's member table when it exists, so adding seeds, magnitudes, sweep
  values or blocks appends members and never renumbers existing ones.
*/
#include "compose.h"
#include <stabaudit/sadeck.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*@C
  SACampaignCreate - Creates an empty campaign

  Collective

  Input Parameter:
. comm - all ranks of the campaign

  Output Parameter:
. c - the campaign

  Level: beginner

.seealso: `SACampaignSetFromOptions()`, `SACampaignExpand()`
@*/
PetscErrorCode SACampaignCreate(MPI_Comm comm, SACampaign *c)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(c));
  (*c)->comm = comm;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SACampaignSetFromOptions - Reads the campaign, sweep and perturbation keys of the deck and
  validates every object a member will create

  Collective

  Input Parameter:
. c - the campaign

  Options Database Keys:
+ -campaign_title <s>            - title of the dataset
. -campaign_seed <n>             - campaign seed (keys the problem instance)
. -campaign_seeds <n1,n2,...>    - member seeds (each gives a twin and its perturbed members)
. -campaign_steps <n>            - optimizer steps per member
. -campaign_record_every <n>     - record interval (divides steps)
. -campaign_checkpoint_every <n> - checkpoint interval of members in flight
. -campaign_explode <f>          - a loss above f * loss(theta_0) is a divergence
. -campaign_branch <bool>        - perturbed members branch from their twin's checkpoint at onset
. -sweep_<axis> <v1,v2,...>      - swept configuration axes: lr, momentum, noise, dropout, batch
- -perturbations <b1,b2,...>     - names of the perturbation blocks; each block b has keys -b_kind, -b_magnitudes, ...

  Level: beginner

.seealso: `SACampaignExpand()`
@*/
PetscErrorCode SACampaignSetFromOptions(SACampaign c)
{
  PetscInt  n, ntot = 1;
  PetscBool set;
  char    **names;
  SASolver  s;

  PetscFunctionBeginUser;
  PetscCall(SADeckGetString("campaign_", "title", "stabaudit campaign", c->title, sizeof(c->title), NULL));
  n = 0;
  PetscCall(SADeckGetInt("campaign_", "seed", 0, 0, PETSC_MAX_INT, &n, NULL));
  c->seed = n;
  PetscCall(SADeckPushRole(SA_KEY_EXTENSIBLE));
  c->nseeds   = 1;
  c->seeds[0] = 1;
  PetscCall(SADeckGetIntArray("campaign_", "seeds", 0, PETSC_MAX_INT, &c->nseeds, c->seeds, NULL));
  PetscCall(SADeckPopRole(SA_KEY_EXTENSIBLE));
  if (c->nseeds <= 0) PetscCall(SADeckFail("campaign_seeds", "need at least one seed"));
  for (PetscInt i = 0; i < c->nseeds; i++)
    for (PetscInt j = 0; j < i; j++)
      if (c->seeds[i] == c->seeds[j])
        PetscCall(SADeckFail("campaign_seeds", "seed %" PetscInt_FMT " repeats; seeds must be distinct", c->seeds[i]));
  PetscCall(SADeckGetInt("campaign_", "steps", 100, 1, 100000000, &c->nsteps, NULL));
  PetscCall(SADeckGetInt("campaign_", "record_every", 1, 1, c->nsteps, &c->record_every, NULL));
  if (c->nsteps % c->record_every)
    PetscCall(SADeckFail("campaign_record_every", "%" PetscInt_FMT " must divide campaign_steps (%" PetscInt_FMT ")",
                         c->record_every, c->nsteps));
  c->nrec = c->nsteps / c->record_every + 1;
  PetscCall(SADeckGetReal("campaign_", "explode", 1e10, 1.0 + PETSC_SMALL, PETSC_MAX_REAL, &c->explode, NULL));
  PetscCall(SADeckPushRole(SA_KEY_CONTROL));
  PetscCall(SADeckGetInt("campaign_", "checkpoint_every", PetscMax(1, c->nsteps / 10), 1, PETSC_MAX_INT,
                         &c->checkpoint_every, NULL));
  PetscCall(SADeckGetBool("campaign_", "branch", PETSC_TRUE, &c->branch, NULL));
  PetscCall(SADeckPopRole(SA_KEY_CONTROL));

  /* sweep axes, in the order of SASweepAxes */
  PetscCall(SADeckPushRole(SA_KEY_EXTENSIBLE));
  c->naxes = 0;
  for (PetscInt a = 0; SASweepAxes[a].name; a++) {
    PetscReal vals[SA_MAX_VALUES];

    n = 0;
    PetscCall(SADeckGetRealArray("sweep_", SASweepAxes[a].name, SASweepAxes[a].lo, SASweepAxes[a].hi, &n, vals, &set));
    if (!set) continue;
    if (n <= 0) {
      char key[64];
      PetscCall(PetscSNPrintf(key, sizeof(key), "sweep_%s", SASweepAxes[a].name));
      PetscCall(SADeckFail(key, "the list of values is empty"));
    }
    c->axis[c->naxes]    = a;
    c->nvalues[c->naxes] = n;
    PetscCall(PetscArraycpy(c->values[c->naxes], vals, n));
    ntot *= n;
    c->naxes++;
  }
  c->nconfigs = ntot;
  PetscCall(PetscFree(c->configvals));
  PetscCall(PetscMalloc1(PetscMax(1, ntot * c->naxes), &c->configvals));
  for (PetscInt k = 0; k < ntot; k++) {
    PetscInt r = k;
    for (PetscInt a = c->naxes - 1; a >= 0; a--) {
      c->configvals[k * c->naxes + a] = c->values[a][r % c->nvalues[a]];
      r /= c->nvalues[a];
    }
  }

  /* perturbation blocks */
  PetscCall(SADeckGetNameArray("", "perturbations", &n, &names, NULL));
  PetscCall(SADeckPopRole(SA_KEY_EXTENSIBLE));
  if (n > SA_MAX_PERTS) PetscCall(SADeckFail("perturbations", "at most %d blocks", SA_MAX_PERTS));
  for (PetscInt i = 0; i < c->nperts; i++) {
    PetscCall(PetscFree(c->pertnames[i]));
    PetscCall(PetscFree(c->pertmags[i]));
  }
  c->nperts = n;
  for (PetscInt i = 0; i < n; i++) {
    SAPerturb      p;
    char           prefix[80];
    SAPerturbType  kind;
    SAPerturbShape shape;

    PetscCall(PetscStrallocpy(names[i], &c->pertnames[i]));
    PetscCall(SAPerturbCreate(PETSC_COMM_SELF, &p));
    PetscCall(PetscSNPrintf(prefix, sizeof(prefix), "%s_", names[i]));
    PetscCall(SAPerturbSetOptionsPrefix(p, prefix));
    PetscCall(SAPerturbSetFromOptions(p));
    PetscCall(SAPerturbGetType(p, &kind));
    PetscCall(PetscStrncpy(c->pertkind[i], kind, sizeof(c->pertkind[i])));
    PetscCall(SAPerturbGetDimension(p, &c->pertdim[i]));
    PetscCall(SAPerturbGetWindow(p, &c->pertonset[i], &c->pertduration[i], &shape));
    c->pertshape[i] = (PetscInt) shape;
    {
      const PetscReal *mags;

      PetscCall(SAPerturbGetMagnitudes(p, &c->pertnmag[i], &mags));
      PetscCall(PetscMalloc1(c->pertnmag[i], &c->pertmags[i]));
      PetscCall(PetscArraycpy(c->pertmags[i], mags, c->pertnmag[i]));
    }
    if (c->pertonset[i] >= c->nsteps) {
      char key[96];
      PetscCall(PetscSNPrintf(key, sizeof(key), "%s_onset", names[i]));
      PetscCall(SADeckFail(key, "onset %" PetscInt_FMT " must be < campaign_steps (%" PetscInt_FMT ")", c->pertonset[i],
                           c->nsteps));
    }
    PetscCall(SAPerturbDestroy(&p));
  }
  PetscCall(PetscStrArrayDestroy(&names));

  /* validate what every configuration x perturbation will build (cheap: nothing is set up) */
  for (PetscInt k = 0; k < c->nconfigs; k++) {
    const PetscReal *cfg = c->naxes ? &c->configvals[k * c->naxes] : NULL;

    for (PetscInt p = -1; p < c->nperts; p++) {
      PetscReal m = p >= 0 ? c->pertmags[p][0] : 0;

      PetscCall(SACampaignBuild_Private(c, PETSC_COMM_SELF, cfg, c->seeds[0], p, m, NULL, NULL, &s));
      PetscCall(SASolverDestroy(&s));
    }
  }
  {
    SATask     task;
    SATaskType type;

    PetscCall(SATaskCreate(PETSC_COMM_SELF, &task));
    PetscCall(SATaskSetFromOptions(task));
    PetscInt                ntask;
    const SAObservableInfo *info;

    PetscCall(SATaskGetType(task, &type));
    PetscCall(PetscStrncpy(c->tasktype, type, sizeof(c->tasktype)));
    PetscCall(SATaskGetObservables(task, &ntask, &info));
    PetscCheck(SA_OBS_COUNT + ntask <= 64, PETSC_COMM_SELF, PETSC_ERR_SUP, "Too many observables");
    c->nobs = SA_OBS_COUNT + ntask;
    for (PetscInt o = 0; o < c->nobs; o++) {
      const SAObservableInfo *in = o < SA_OBS_COUNT ? &SAObservables[o] : &info[o - SA_OBS_COUNT];
      char                   *nm, *ln, *un;

      PetscCall(PetscStrallocpy(in->name, &nm));
      PetscCall(PetscStrallocpy(in->long_name, &ln));
      PetscCall(PetscStrallocpy(in->units, &un));
      c->obs[o].name      = nm;
      c->obs[o].long_name = ln;
      c->obs[o].units     = un;
    }
    PetscCall(SATaskDestroy(&task));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SACampaignGetConfigLabel - A configuration as text, e.g. "lr=0.5,noise=0.01" ("base" without sweep)

  Not Collective

  Input Parameters:
+ c   - the campaign
. k   - configuration index
- len - size of buf

  Output Parameter:
. buf - the label

  Level: intermediate

.seealso: `SACampaignExpand()`
@*/
PetscErrorCode SACampaignGetConfigLabel(SACampaign c, PetscInt k, char buf[], size_t len)
{
  PetscFunctionBeginUser;
  buf[0] = 0;
  if (!c->naxes) PetscCall(PetscStrncpy(buf, "base", len));
  for (PetscInt a = 0; a < c->naxes; a++) {
    char item[96];

    PetscCall(PetscSNPrintf(item, sizeof(item), "%s%s=%.17g", a ? "," : "", SASweepAxes[c->axis[a]].name,
                            (double) c->configvals[k * c->naxes + a]));
    PetscCall(PetscStrlcat(buf, item, len));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SACampaignExpand - Expands the deck into members with stable ids

  Collective

  Input Parameters:
+ c     - the campaign (after `SACampaignSetFromOptions()`)
- prior - the member table of an existing campaign directory (`SACampaignGetMemberTable()`), or NULL

  Notes:
  Members of the prior table keep their ids; new members get the next ids in expansion order.
  A prior member that the deck no longer produces is an error.

  Level: beginner

.seealso: `SACampaignGetMemberTable()`
@*/
PetscErrorCode SACampaignExpand(SACampaign c, const char prior[])
{
  PetscInt  per = 1, n = 0, nprior = 0, next = 0;
  SAMember *nat;
  char    **pkeys = NULL;
  PetscInt *pids  = NULL;

  PetscFunctionBeginUser;
  for (PetscInt p = 0; p < c->nperts; p++) per += c->pertnmag[p];
  PetscCall(PetscCalloc1(c->nconfigs * c->nseeds * per, &nat));
  for (PetscInt k = 0; k < c->nconfigs; k++) {
    char label[200];

    PetscCall(SACampaignGetConfigLabel(c, k, label, sizeof(label)));
    for (PetscInt si = 0; si < c->nseeds; si++) {
      PetscInt tw = n;

      nat[n].config = k;
      nat[n].seed   = c->seeds[si];
      nat[n].pert   = -1;
      nat[n].twin   = -1;
      PetscCall(PetscSNPrintf(nat[n].key, sizeof(nat[n].key), "c[%s]|s%" PetscInt_FMT "|twin", label, c->seeds[si]));
      n++;
      for (PetscInt p = 0; p < c->nperts; p++) {
        PetscInt         nm   = c->pertnmag[p];
        const PetscReal *mags = c->pertmags[p];

        for (PetscInt m = 0; m < nm; m++) {
          nat[n].config    = k;
          nat[n].seed      = c->seeds[si];
          nat[n].pert      = p;
          nat[n].magnitude = mags[m];
          nat[n].twin      = tw; /* natural index for now */
          PetscCall(PetscSNPrintf(nat[n].key, sizeof(nat[n].key), "c[%s]|s%" PetscInt_FMT "|%s|m%.17g", label,
                                  c->seeds[si], c->pertnames[p], (double) mags[m]));
          n++;
        }
      }
    }
  }
  /* prior table: "<id> <key>" lines */
  if (prior) {
    const char *s   = prior;
    PetscInt    cap = 0;

    for (const char *q = prior; *q; q++) cap += (*q == '\n');
    PetscCall(PetscCalloc1(cap + 1, &pkeys));
    PetscCall(PetscCalloc1(cap + 1, &pids));
    while (s && *s) {
      const char *e = strchr(s, '\n');
      long        id;
      char        key[256];

      if (*s != '#' && sscanf(s, "%ld %255s", &id, key) == 2) {
        pids[nprior] = (PetscInt) id;
        PetscCall(PetscStrallocpy(key, &pkeys[nprior]));
        nprior++;
      }
      s = e ? e + 1 : NULL;
    }
  }
  for (PetscInt i = 0; i < nprior; i++) next = PetscMax(next, pids[i] + 1);
  for (PetscInt i = 0; i < nprior; i++) {
    PetscBool found = PETSC_FALSE;
    for (PetscInt j = 0; j < n && !found; j++) found = (PetscBool) !strcmp(pkeys[i], nat[j].key);
    PetscCheck(found, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT,
               "the campaign directory holds member %" PetscInt_FMT
               " (%s) that this deck no longer produces; decks may add seeds, magnitudes, sweep values and "
               "perturbation blocks, not remove them. Use a new -o directory",
               pids[i], pkeys[i]);
  }
  PetscCheck(next <= n, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
             "member table has ids up to %" PetscInt_FMT " but the deck gives %" PetscInt_FMT " members", next - 1, n);
  {
    PetscInt *idof;

    PetscCall(PetscMalloc1(n, &idof));
    for (PetscInt j = 0; j < n; j++) {
      idof[j] = -1;
      for (PetscInt i = 0; i < nprior; i++)
        if (!strcmp(pkeys[i], nat[j].key)) idof[j] = pids[i];
      if (idof[j] < 0) idof[j] = next++;
    }
    PetscCall(PetscFree(c->members));
    PetscCall(PetscCalloc1(n, &c->members));
    c->nmembers = n;
    for (PetscInt j = 0; j < n; j++) {
      SAMember *m = &c->members[idof[j]];

      *m    = nat[j];
      m->id = idof[j];
      if (nat[j].twin >= 0) m->twin = idof[nat[j].twin];
    }
    PetscCall(PetscFree(idof));
  }
  for (PetscInt i = 0; i < nprior; i++) PetscCall(PetscFree(pkeys[i]));
  PetscCall(PetscFree(pkeys));
  PetscCall(PetscFree(pids));
  PetscCall(PetscFree(nat));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SACampaignGetMemberTable - The member table as text ("<id> <key>" per line), stored in the directory

  Not Collective

  Input Parameter:
. c - the expanded campaign

  Output Parameter:
. text - newly allocated; free with `PetscFree()`

  Level: developer

.seealso: `SACampaignExpand()`
@*/
PetscErrorCode SACampaignGetMemberTable(SACampaign c, char **text)
{
  size_t len = 64;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < c->nmembers; i++) len += strlen(c->members[i].key) + 24;
  PetscCall(PetscCalloc1(len, text));
  PetscCall(PetscStrlcat(*text, "# stabaudit member table v1: id key\n", len));
  for (PetscInt i = 0; i < c->nmembers; i++) {
    char line[300];
    PetscCall(PetscSNPrintf(line, sizeof(line), "%" PetscInt_FMT " %s\n", c->members[i].id, c->members[i].key));
    PetscCall(PetscStrlcat(*text, line, len));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SACampaignView - Prints the member table summary (the plan): counts per configuration,
  dimension, kind and magnitude, and the total steps with and without branching

  Collective

  Input Parameters:
+ c      - the expanded campaign
- viewer - an ASCII viewer

  Level: beginner

.seealso: `SACampaignExpand()`
@*/
PetscErrorCode SACampaignView(SACampaign c, PetscViewer viewer)
{
  PetscInt64 total = 0, branched = 0;
  PetscInt   ntwins = 0;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < c->nmembers; i++) {
    SAMember *m = &c->members[i];

    total += c->nsteps;
    if (m->pert < 0) ntwins++;
    branched += (m->pert >= 0 && c->branch) ? c->nsteps - c->pertonset[m->pert] : c->nsteps;
  }
  PetscCall(PetscViewerASCIIPrintf(
    viewer, "campaign '%s': workload %s, %" PetscInt_FMT " steps per member, recorded every %" PetscInt_FMT "\n",
    c->title, c->tasktype, c->nsteps, c->record_every));
  PetscCall(PetscViewerASCIIPrintf(viewer,
                                   "  %" PetscInt_FMT " members: %" PetscInt_FMT " unperturbed twins + %" PetscInt_FMT
                                   " perturbed; %" PetscInt_FMT " configurations x %" PetscInt_FMT " seeds\n",
                                   c->nmembers, ntwins, c->nmembers - ntwins, c->nconfigs, c->nseeds));
  PetscCall(PetscViewerASCIIPrintf(
    viewer, "  total steps %" PetscInt64_FMT " (%" PetscInt64_FMT " with twin branching)\n", total, branched));
  PetscCall(PetscViewerASCIIPrintf(viewer, "  %-24s %8s\n", "configuration", "members"));
  for (PetscInt k = 0; k < c->nconfigs; k++) {
    char     label[200];
    PetscInt cnt = 0;

    PetscCall(SACampaignGetConfigLabel(c, k, label, sizeof(label)));
    for (PetscInt i = 0; i < c->nmembers; i++) cnt += (c->members[i].config == k);
    PetscCall(PetscViewerASCIIPrintf(viewer, "  %-24s %8" PetscInt_FMT "\n", label, cnt));
  }
  PetscCall(PetscViewerASCIIPrintf(viewer, "  %-16s %-16s %-14s %12s %6s %8s %8s\n", "dimension", "kind", "block",
                                   "magnitude", "onset", "duration", "members"));
  PetscCall(PetscViewerASCIIPrintf(viewer, "  %-16s %-16s %-14s %12s %6s %8s %8" PetscInt_FMT "\n", "none", "twin", "-",
                                   "-", "-", "-", ntwins));
  for (PetscInt p = 0; p < c->nperts; p++) {
    PetscReal seen[SA_MAX_MAGNITUDES_PER_BLOCK];
    PetscInt  nseen = 0;

    for (PetscInt i = 0; i < c->nmembers; i++) {
      SAMember *m   = &c->members[i];
      PetscBool dup = PETSC_FALSE;
      PetscInt  cnt = 0;

      if (m->pert != p) continue;
      for (PetscInt j = 0; j < nseen; j++) dup = (PetscBool) (dup || seen[j] == m->magnitude);
      if (dup) continue;
      seen[nseen++] = m->magnitude;
      for (PetscInt j = 0; j < c->nmembers; j++)
        cnt += (c->members[j].pert == p && c->members[j].magnitude == m->magnitude);
      PetscCall(PetscViewerASCIIPrintf(
        viewer, "  %-16s %-16s %-14s %12g %6" PetscInt_FMT " %8" PetscInt_FMT " %8" PetscInt_FMT "\n",
        SADimensions[c->pertdim[p]], c->pertkind[p], c->pertnames[p], (double) m->magnitude, c->pertonset[p],
        c->pertduration[p], cnt));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SACampaignDestroy - Destroys a campaign

  Collective

  Input Parameter:
. c - the campaign (set to NULL)

  Level: beginner

.seealso: `SACampaignCreate()`
@*/
PetscErrorCode SACampaignDestroy(SACampaign *c)
{
  PetscFunctionBeginUser;
  if (!*c) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt i = 0; i < (*c)->nperts; i++) {
    PetscCall(PetscFree((*c)->pertnames[i]));
    PetscCall(PetscFree((*c)->pertmags[i]));
  }
  for (PetscInt o = 0; o < (*c)->nobs; o++) {
    PetscCall(PetscFree((*c)->obs[o].name));
    PetscCall(PetscFree((*c)->obs[o].long_name));
    PetscCall(PetscFree((*c)->obs[o].units));
  }
  PetscCall(PetscFree((*c)->configvals));
  PetscCall(PetscFree((*c)->members));
  PetscCall(PetscFree(*c));
  PetscFunctionReturn(PETSC_SUCCESS);
}
