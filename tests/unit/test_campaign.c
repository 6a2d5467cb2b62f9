/*
  test_campaign.c - deck expansion: member counts, twins, stable ids when a deck is extended, and
  the typed deck getters (wrong type, out of range, unknown key) through the real deck loader.
*/
#include <stabaudit/sacampaign.h>
#include <stabaudit/sadeck.h>
#include <slepcsys.h>
#include "satest.h"
#include <string.h>
#include <stdio.h>
#include <unistd.h>

static char tmpdir[PETSC_MAX_PATH_LEN];

static const char *deck_base = "campaign: {seeds: [1, 2], steps: 20, record_every: 5}\n"
                               "task: {type: quadratic, noise: 0.1, quadratic: {dim: 8}}\n"
                               "optimizer: {type: momentum, lr: 0.5, momentum: 0.5}\n"
                               "sweep: {lr: [0.1, 0.2, 0.4]}\n"
                               "perturbations: [spike, kick]\n"
                               "spike: {kind: lr_spike, magnitudes: [2, 5], onset: 5}\n"
                               "kick: {kind: weight_kick, magnitudes: [0.1], onset: 10}\n";

/* the base deck extended: one more seed, a magnitude in the middle of a list, a sweep value, a block */
static const char *deck_ext = "campaign: {seeds: [1, 2, 7], steps: 20, record_every: 5}\n"
                              "task: {type: quadratic, noise: 0.1, quadratic: {dim: 8}}\n"
                              "optimizer: {type: momentum, lr: 0.5, momentum: 0.5}\n"
                              "sweep: {lr: [0.05, 0.1, 0.2, 0.4]}\n"
                              "perturbations: [spike, kick, scale]\n"
                              "spike: {kind: lr_spike, magnitudes: [2, 3, 5], onset: 5}\n"
                              "kick: {kind: weight_kick, magnitudes: [0.1], onset: 10}\n"
                              "scale: {kind: loss_scale, magnitudes: [0.5], onset: 10}\n";

/* writes text to a deck file and loads it into a clean options database */
static PetscErrorCode LoadDeck(const char name[], const char text[], char path[])
{
  FILE *fp;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, PETSC_MAX_PATH_LEN, "%s/%s", tmpdir, name));
  fp = fopen(path, "w");
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot write %s", path);
  fputs(text, fp);
  fclose(fp);
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(SADeckReset());
  PetscCall(SADeckLoad(PETSC_COMM_WORLD, path, 0, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckExpansion(void)
{
  SACampaign c;
  char       path[PETSC_MAX_PATH_LEN];
  PetscInt   ntw = 0;

  PetscFunctionBeginUser;
  PetscCall(LoadDeck("base.yaml", deck_base, path));
  PetscCall(SACampaignCreate(PETSC_COMM_WORLD, &c));
  PetscCall(SACampaignSetFromOptions(c));
  PetscCall(SACampaignExpand(c, NULL));
  /* 3 configurations x 2 seeds x (1 twin + 2 spike magnitudes + 1 kick magnitude) */
  PetscCheck(c->nconfigs == 3 && c->nseeds == 2 && c->nmembers == 3 * 2 * 4, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "expected 24 members in 3 configs, got %" PetscInt_FMT " in %" PetscInt_FMT, c->nmembers, c->nconfigs);
  PetscCheck(c->nrec == 5, PETSC_COMM_SELF, PETSC_ERR_PLIB, "expected 5 recorded steps, got %" PetscInt_FMT, c->nrec);
  for (PetscInt i = 0; i < c->nmembers; i++) {
    SAMember *m = &c->members[i];

    PetscCheck(m->id == i, PETSC_COMM_SELF, PETSC_ERR_PLIB, "member %" PetscInt_FMT " has id %" PetscInt_FMT, i, m->id);
    if (m->pert < 0) {
      ntw++;
      PetscCheck(m->twin == -1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "a twin has a twin");
    } else {
      SAMember *t = &c->members[m->twin];
      PetscCheck(t->pert < 0 && t->config == m->config && t->seed == m->seed, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "member %" PetscInt_FMT ": wrong twin %" PetscInt_FMT, i, m->twin);
    }
  }
  PetscCheck(ntw == 6, PETSC_COMM_SELF, PETSC_ERR_PLIB, "expected 6 twins, got %" PetscInt_FMT, ntw);
  PetscCheck(c->configvals[0] == 0.1 && c->configvals[2] == 0.4, PETSC_COMM_SELF, PETSC_ERR_PLIB, "wrong sweep values");
  PetscCall(SACampaignDestroy(&c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckStableIds(void)
{
  SACampaign c;
  char       path[PETSC_MAX_PATH_LEN], *table;
  SAMember  *old;
  PetscInt   nold;

  PetscFunctionBeginUser;
  PetscCall(LoadDeck("base.yaml", deck_base, path));
  PetscCall(SACampaignCreate(PETSC_COMM_WORLD, &c));
  PetscCall(SACampaignSetFromOptions(c));
  PetscCall(SACampaignExpand(c, NULL));
  PetscCall(SACampaignGetMemberTable(c, &table));
  nold = c->nmembers;
  PetscCall(PetscMalloc1(nold, &old));
  PetscCall(PetscArraycpy(old, c->members, nold));
  PetscCall(SACampaignDestroy(&c));

  /* extend: one more seed, one more magnitude in the middle of a list, one more sweep value, one more block */
  PetscCall(LoadDeck("extended.yaml", deck_ext, path));
  PetscCall(SACampaignCreate(PETSC_COMM_WORLD, &c));
  PetscCall(SACampaignSetFromOptions(c));
  PetscCall(SACampaignExpand(c, table));
  PetscCheck(c->nmembers == 4 * 3 * (1 + 3 + 1 + 1), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "expected 72 members, got %" PetscInt_FMT, c->nmembers);
  for (PetscInt i = 0; i < nold; i++) {
    SAMember *m = &c->members[i];
    PetscCheck(!strcmp(m->key, old[i].key) && m->id == i, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "member %" PetscInt_FMT " was renumbered: %s became %s", i, old[i].key, m->key);
    PetscCheck(m->twin == old[i].twin, PETSC_COMM_SELF, PETSC_ERR_PLIB, "member %" PetscInt_FMT " changed twin", i);
  }
  for (PetscInt i = nold; i < c->nmembers; i++) {
    SAMember *m = &c->members[i];
    PetscCheck(m->id == i, PETSC_COMM_SELF, PETSC_ERR_PLIB, "new member %" PetscInt_FMT " has id %" PetscInt_FMT, i,
               m->id);
    if (m->pert >= 0)
      PetscCheck(c->members[m->twin].pert < 0 && c->members[m->twin].seed == m->seed &&
                   c->members[m->twin].config == m->config,
                 PETSC_COMM_SELF, PETSC_ERR_PLIB, "new member %" PetscInt_FMT ": wrong twin", i);
  }
  PetscCall(SACampaignDestroy(&c));

  /* removing a member the directory already holds is refused */
  PetscCall(LoadDeck("shrunk.yaml",
                     "campaign: {seeds: [1], steps: 20, record_every: 5}\n"
                     "task: {type: quadratic, noise: 0.1, quadratic: {dim: 8}}\n"
                     "optimizer: {type: momentum, lr: 0.5, momentum: 0.5}\n"
                     "sweep: {lr: [0.1, 0.2, 0.4]}\n"
                     "perturbations: [spike, kick]\n"
                     "spike: {kind: lr_spike, magnitudes: [2, 5], onset: 5}\n"
                     "kick: {kind: weight_kick, magnitudes: [0.1], onset: 10}\n",
                     path));
  PetscCall(SACampaignCreate(PETSC_COMM_WORLD, &c));
  PetscCall(SACampaignSetFromOptions(c));
  {
    PetscErrorCode ierr;
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = SACampaignExpand(c, table);
    PetscCall(PetscPopErrorHandler());
    PetscCheck(ierr == PETSC_ERR_USER_INPUT, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "removing seeds from a directory's deck must fail");
  }
  PetscCall(SACampaignDestroy(&c));
  PetscCall(PetscFree(table));
  PetscCall(PetscFree(old));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* each bad deck must fail with PETSC_ERR_USER_INPUT and a message naming the file and the key */
static PetscErrorCode CheckBad(const char name[], const char text[], const char must1[], const char must2[])
{
  SACampaign     c;
  char           path[PETSC_MAX_PATH_LEN];
  PetscErrorCode ierr;
  const char    *msg;

  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = LoadDeck(name, text, path);
  if (!ierr) {
    ierr = SACampaignCreate(PETSC_COMM_WORLD, &c);
    if (!ierr) ierr = SACampaignSetFromOptions(c);
    if (!ierr) ierr = SADeckCheckUnused(PETSC_COMM_WORLD);
    (void) SACampaignDestroy(&c);
  }
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_USER_INPUT, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "deck %s: expected a user-input error, got %d", name, (int) ierr);
  PetscCall(SADeckError(ierr, &msg));
  PetscCheck(strstr(msg, must1) && strstr(msg, must2), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "deck %s: message '%s' lacks '%s' or '%s'", name, msg, must1, must2);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckBadDecks(void)
{
  PetscFunctionBeginUser;
  PetscCall(CheckBad("unknown.yaml", "campaign: {steps: 10}\ntask: {type: quadratic, quadratic: {dimm: 8}}\n",
                     "unknown.yaml", "dimm"));
  PetscCall(CheckBad("unknown2.yaml", "campaign: {steps: 10}\ntask: {type: quadratic, quadratic: {dimm: 8}}\n",
                     "allowed keys", "lambda_max"));
  PetscCall(CheckBad("type.yaml", "campaign: {steps: ten}\n", "campaign_steps", "integer"));
  PetscCall(CheckBad("range.yaml", "campaign: {steps: 10}\noptimizer: {lr: -1}\n", "optimizer_lr", "range.yaml"));
  PetscCall(CheckBad("enum.yaml", "optimizer: {type: adamm}\n", "adamw, momentum, sgd", "optimizer_type"));
  PetscCall(CheckBad("kind.yaml", "perturbations: [p]\np: {kind: nope, magnitudes: [1]}\n", "lr_spike", "p_kind"));
  PetscCall(CheckBad("mag.yaml", "perturbations: [p]\np: {kind: weight_kick, magnitudes: [1000]}\n", "p_magnitudes",
                     "real numbers in [0"));
  PetscCall(CheckBad("file.yaml", "task: {quadratic: {spectrum: file, spectrum_file: /nonexistent/eig.txt}}\n",
                     "/nonexistent/eig.txt", "task_quadratic_spectrum_file"));
  PetscCall(CheckBad("syntax.yaml", "campaign: {steps: [1, 2\n", "syntax.yaml", "line"));
  PetscCall(CheckBad("listmaps.yaml", "perturbations:\n  - {kind: lr_spike, onset: 3}\n", "listmaps.yaml", "named"));
  PetscCall(CheckBad("noise.yaml", "perturbations: [p]\np: {kind: noise_scale, magnitudes: [2]}\n", "noise_scale",
                     "task_noise"));
  PetscCall(CheckBad("onset.yaml",
                     "campaign: {steps: 10}\nperturbations: [p]\np: {kind: lr_spike, magnitudes: [2], onset: 10}\n",
                     "onset", "campaign_steps"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* display labels: shortest round-trip numbers; names, "base" and non-numbers unchanged; truncation stays terminated */
static void test_label_shorten(void)
{
  const char *in[6]  = {"lr=0.050000000000000003,dropout=0.20000000000000001",
                        "base",
                        "lr=1.0000000000000001e-05",
                        "noise=0,batch=128",
                        "lr=0.10000000000000001,x=abc",
                        "lr=0.33333333333333331"};
  const char *out[6] = {"lr=0.05,dropout=0.2", "base",         "lr=1e-05",
                        "noise=0,batch=128",   "lr=0.1,x=abc", "lr=0.3333333333333333"};
  char        buf[64], small[6];

  for (int i = 0; i < 6; i++) {
    CU_ASSERT_FATAL(!SAConfigLabelShorten(in[i], buf, sizeof(buf)));
    CU_ASSERT_STRING_EQUAL(buf, out[i]);
  }
  CU_ASSERT_FATAL(!SAConfigLabelShorten(in[0], small, sizeof(small)));
  CU_ASSERT_STRING_EQUAL(small, "lr=0.");
}

static void test_expansion(void) { CU_ASSERT_EQUAL(CheckExpansion(), PETSC_SUCCESS); }
static void test_stable_ids(void) { CU_ASSERT_EQUAL(CheckStableIds(), PETSC_SUCCESS); }
static void test_bad_decks(void) { CU_ASSERT_EQUAL(CheckBadDecks(), PETSC_SUCCESS); }

int main(int argc, char **argv)
{
  PetscMPIInt rank;
  int         nfail_all;
  CU_pSuite   s;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SAInitialize());
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  if (!rank) {
    PetscCall(PetscStrncpy(tmpdir, "/tmp/sa_test_campaign_XXXXXX", sizeof(tmpdir)));
    PetscCheck(mkdtemp(tmpdir), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "mkdtemp failed");
  }
  PetscCallMPI(MPI_Bcast(tmpdir, sizeof(tmpdir), MPI_CHAR, 0, PETSC_COMM_WORLD));
  if (CU_initialize_registry() != CUE_SUCCESS) return EXIT_FAILURE;
  s = CU_add_suite("campaign", NULL, NULL);
  CU_add_test(s, "expansion counts and twins", test_expansion);
  CU_add_test(s, "stable ids when a deck is extended", test_stable_ids);
  CU_add_test(s, "bad decks give clear errors", test_bad_decks);
  CU_add_test(s, "configuration labels shortened for display", test_label_shorten);
  PetscCall(SATestRunSuite(PETSC_COMM_WORLD, &nfail_all));
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(SAFinalize());
  PetscCall(SlepcFinalize());
  return nfail_all ? EXIT_FAILURE : EXIT_SUCCESS;
}
