/*
  test_model.c - SAModel as a PetscObject, through its public interface: the options prefix in front of its deck keys
  ("critic_" reads -critic_model_hidden, not -model_hidden), reference counting (PetscObjectReference, then two
  destroys), the typed batch (a batch of a type the mlp does not take is PETSC_ERR_ARG_WRONG naming both types), and
  the mlp's own queries composed on the object (SAModelMLPGetLayers, SAModelMLPGetNumHiddenLayers; PETSC_ERR_SUP on a
  model without the type). The forward, backward and HVP of a rows batch equal the kernels called directly, bitwise.
*/
#include <stabaudit/samodel.h>
#include "../../solvers/kernels/mlp_kernels.h"
#include "satest.h"
#include <string.h>

static const char *const Opts[] = {
  "-model_hidden", "9", "-critic_model_hidden", "5,3", "-critic_model_dropout", "0.2", "-critic_model_activation",
  "gelu",          NULL};

/* a model on PETSC_COMM_SELF with the given options prefix (or none), options read, set up for 4 inputs, 3 outputs */
static PetscErrorCode CreateModel(const char *prefix, SAModel *model)
{
  PetscFunctionBeginUser;
  PetscCall(SAModelCreate(PETSC_COMM_SELF, model));
  if (prefix) PetscCall(SAModelSetOptionsPrefix(*model, prefix));
  PetscCall(SAModelSetFromOptions(*model));
  PetscCall(SAModelSetUp(*model, 4, 3));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* "critic_" reads the critic_model_* keys only; no prefix reads model_*; the layout follows the hidden widths read */
static PetscErrorCode CheckPrefix(void)
{
  SAModel       critic, plain, m;
  PetscInt      nh, L, P;
  const int    *w;
  const size_t *oW, *ob;
  const char   *prefix;
  PetscReal     p;
  SAModelType   type;

  PetscFunctionBeginUser;
  PetscCall(SATestSetOptions(Opts));
  PetscCall(CreateModel("critic_", &critic));
  PetscCall(SAModelGetOptionsPrefix(critic, &prefix));
  PetscCheck(prefix && !strcmp(prefix, "critic_"), PETSC_COMM_SELF, PETSC_ERR_PLIB, "prefix %s", prefix);
  PetscCall(SAModelGetType(critic, &type));
  PetscCheck(!strcmp(type, SAMODELMLP), PETSC_COMM_SELF, PETSC_ERR_PLIB, "type %s", type);
  PetscCall(SAModelMLPGetNumHiddenLayers(critic, &nh));
  PetscCall(SAModelMLPGetLayers(critic, &L, &w, &oW, &ob));
  PetscCall(SAModelGetNumParameters(critic, &P));
  PetscCheck(nh == 2 && L == 3 && w[0] == 4 && w[1] == 5 && w[2] == 3 && w[3] == 3, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "critic: %" PetscInt_FMT " hidden layers, L %" PetscInt_FMT ", widths %d %d %d %d", nh, L, w[0], w[1],
             w[2], w[3]);
  PetscCheck(P == 5 * 4 + 5 + 3 * 5 + 3 + 3 * 3 + 3 && oW[0] == 0 && ob[0] == 20 && oW[1] == 25 &&
               ob[2] == (size_t) (P - 3),
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "critic: P %" PetscInt_FMT ", offsets %zu %zu %zu %zu", P, oW[0], ob[0],
             oW[1], ob[2]);
  PetscCall(SAModelGetDropout(critic, &p));
  PetscCheck(p == 0.2, PETSC_COMM_SELF, PETSC_ERR_PLIB, "critic dropout %g", (double) p);

  PetscCall(CreateModel(NULL, &plain));
  PetscCall(SAModelGetOptionsPrefix(plain, &prefix));
  PetscCheck(!prefix, PETSC_COMM_SELF, PETSC_ERR_PLIB, "a prefix %s", prefix);
  PetscCall(SAModelMLPGetLayers(plain, &L, &w, NULL, NULL));
  PetscCall(SAModelGetDropout(plain, &p));
  PetscCheck(L == 2 && w[1] == 9 && p == 0.0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "plain: L %" PetscInt_FMT ", width %d, dropout %g", L, w[1], (double) p);
  PetscCall(SAModelSetDropout(plain, 0.5));
  PetscCall(SAModelGetDropout(plain, &p));
  PetscCheck(p == 0.5, PETSC_COMM_SELF, PETSC_ERR_PLIB, "dropout set 0.5, got %g", (double) p);

  /* an appended prefix: actor_ + critic_ reads actor_critic_model_*, which is not set (defaults: one hidden layer of
     64) */
  PetscCall(SAModelCreate(PETSC_COMM_SELF, &m));
  PetscCall(SAModelSetOptionsPrefix(m, "actor_"));
  PetscCall(SAModelAppendOptionsPrefix(m, "critic_"));
  PetscCall(SAModelGetOptionsPrefix(m, &prefix));
  PetscCheck(!strcmp(prefix, "actor_critic_"), PETSC_COMM_SELF, PETSC_ERR_PLIB, "appended prefix %s", prefix);
  PetscCall(SAModelSetFromOptions(m));
  PetscCall(SAModelSetUp(m, 4, 3));
  PetscCall(SAModelMLPGetLayers(m, &L, &w, NULL, NULL));
  PetscCheck(L == 2 && w[1] == 64, PETSC_COMM_SELF, PETSC_ERR_PLIB, "actor_critic_: L %" PetscInt_FMT ", width %d", L,
             w[1]);
  PetscCall(SAModelDestroy(&m));
  PetscCall(SAModelDestroy(&plain));
  PetscCall(SAModelDestroy(&critic));
  PetscCall(SATestClearOptions(Opts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* PetscObjectReference then two destroys: the first only drops the reference, the second frees */
static PetscErrorCode CheckReference(void)
{
  SAModel  a, b;
  PetscInt refct, P;

  PetscFunctionBeginUser;
  PetscCall(CreateModel(NULL, &a));
  PetscCall(PetscObjectReference((PetscObject) a));
  b = a;
  PetscCall(PetscObjectGetReference((PetscObject) a, &refct));
  PetscCheck(refct == 2, PETSC_COMM_SELF, PETSC_ERR_PLIB, "refct %" PetscInt_FMT " after a reference", refct);
  PetscCall(SAModelDestroy(&a));
  PetscCheck(!a, PETSC_COMM_SELF, PETSC_ERR_PLIB, "the destroyed handle is not NULL");
  PetscCall(PetscObjectGetReference((PetscObject) b, &refct));
  PetscCall(SAModelGetNumParameters(b, &P));
  PetscCheck(refct == 1 && P > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "after one destroy: refct %" PetscInt_FMT, refct);
  PetscCall(SAModelDestroy(&b));
  PetscCheck(!b, PETSC_COMM_SELF, PETSC_ERR_PLIB, "the last handle is not NULL");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a tokens batch given to an mlp: PETSC_ERR_ARG_WRONG naming both batch types and the model type */
static PetscErrorCode CheckBatchType(void)
{
  SAModel        m;
  SAModelBatch   b = {"tokens", 2, NULL, NULL, NULL, NULL};
  PetscReal     *ws, loss, theta[1] = {0};
  size_t         n;
  PetscErrorCode e;
  const char    *text;
  char          *msg = NULL;

  PetscFunctionBeginUser;
  PetscCall(CreateModel(NULL, &m));
  PetscCall(SAModelGetWorkspaceSize(m, 2, &n));
  PetscCall(PetscMalloc1(n, &ws));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  e = SAModelForward(m, ws, theta, &b, &loss);
  PetscCall(PetscPopErrorHandler());
  PetscCall(PetscErrorMessage(e, &text, &msg));
  PetscCheck(e == PETSC_ERR_ARG_WRONG, PETSC_COMM_SELF, PETSC_ERR_PLIB, "error %d for a tokens batch", (int) e);
  PetscCheck(msg && strstr(msg, "tokens") && strstr(msg, SAMODELBATCHROWS) && strstr(msg, SAMODELMLP), PETSC_COMM_SELF,
             PETSC_ERR_PLIB, "unclear message: %s", msg ? msg : "(none)");
  PetscCall(PetscFree(ws));
  PetscCall(SAModelDestroy(&m));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the mlp queries need the mlp: a model with no type yet answers PETSC_ERR_SUP (and has no dropout) */
static PetscErrorCode CheckTypeSpecific(void)
{
  SAModel        m;
  PetscInt       nh = -1;
  PetscReal      p  = -1;
  PetscErrorCode e[3];

  PetscFunctionBeginUser;
  PetscCall(SAModelCreate(PETSC_COMM_SELF, &m));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  e[0] = SAModelMLPGetNumHiddenLayers(m, &nh);
  e[1] = SAModelMLPGetLayers(m, NULL, NULL, NULL, NULL);
  e[2] = SAModelSetDropout(m, 0.1);
  PetscCall(PetscPopErrorHandler());
  PetscCall(SAModelGetDropout(m, &p));
  PetscCheck(e[0] == PETSC_ERR_SUP && e[1] == PETSC_ERR_SUP && e[2] == PETSC_ERR_SUP && p == 0.0, PETSC_COMM_SELF,
             PETSC_ERR_PLIB, "untyped model: errors %d %d %d, dropout %g", (int) e[0], (int) e[1], (int) e[2],
             (double) p);
  PetscCall(SAModelSetType(m, SAMODELMLP));
  PetscCall(SAModelMLPGetNumHiddenLayers(m, &nh)); /* before set-up: as configured */
  PetscCheck(nh == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "default mlp: %" PetscInt_FMT " hidden layers", nh);
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  e[0] = SAModelMLPGetLayers(m, NULL, NULL, NULL, NULL); /* the layout needs SAModelSetUp() */
  PetscCall(PetscPopErrorHandler());
  PetscCheck(e[0] == PETSC_ERR_ORDER, PETSC_COMM_SELF, PETSC_ERR_PLIB, "layers before set-up: error %d", (int) e[0]);
  PetscCall(SAModelDestroy(&m));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* forward, backward and HVP of a rows batch (with dropout masks and a signal modifier) equal the kernels, bitwise */
static PetscErrorCode CheckRowsBitwise(void)
{
  SAModel       m;
  PetscInt      L, P;
  const int    *w;
  const int     B = 6, act = 2, loss = 0; /* the critic: gelu, xent */
  int           y[6];
  PetscReal     X[6 * 4], mask0[6 * 5], mask1[6 * 3], scale[6], *theta, *v, *ws, *ws2, *g[2], *h[2], l[2];
  const double *masks[2] = {mask0, mask1};
  size_t        n;
  SAModelBatch  b;
  SAStream      s;

  PetscFunctionBeginUser;
  PetscCall(SATestSetOptions(Opts));
  PetscCall(CreateModel("critic_", &m));
  PetscCall(SATestClearOptions(Opts));
  PetscCall(SAModelMLPGetLayers(m, &L, &w, NULL, NULL));
  PetscCall(SAModelGetNumParameters(m, &P));
  PetscCall(SAModelGetWorkspaceSize(m, B, &n));
  PetscCall(PetscMalloc4(P, &theta, P, &v, n, &ws, n, &ws2));
  PetscCall(PetscCalloc4(P, &g[0], P, &g[1], P, &h[0], P, &h[1]));
  PetscCall(SAStreamCreate(5, 1, SA_STREAM_TEST, &s));
  PetscCall(SAStreamNormalArray(&s, 0, 0, P, theta));
  PetscCall(SAStreamNormalArray(&s, 1, 0, P, v));
  PetscCall(SAStreamNormalArray(&s, 2, 0, B * 4, X));
  for (PetscInt i = 0; i < P; i++) theta[i] *= 0.5;
  for (PetscInt i = 0; i < B * 5; i++) mask0[i] = (i % 3) ? 1.25 : 0.0;
  for (PetscInt i = 0; i < B * 3; i++) mask1[i] = (i % 4) ? 1.25 : 0.0;
  for (PetscInt i = 0; i < B; i++) y[i] = (int) (i % 3), scale[i] = (i % 2) ? -1.0 / B : 1.0 / B;
  PetscCall(SAModelBatchSetRows(&b, B, X, y, masks));
  PetscCall(SAModelForward(m, ws, theta, &b, &l[0]));
  PetscCall(SAModelSetSignalModifier(m, scale, NULL));
  PetscCall(SAModelBackward(m, ws, theta, &b, g[0]));
  PetscCall(SAModelHessianMult(m, ws, theta, v, &b, h[0]));
  PetscCall(SAModelSetSignalModifier(m, NULL, NULL));
  l[1] = sa_mlp_forward(ws2, theta, X, y, masks, (int) L, w, act, loss, B);
  sa_mlp_backward_signal(g[1], ws2, theta, X, y, masks, (int) L, w, act, loss, B, scale, NULL);
  sa_mlp_hvp_signal(h[1], ws2, theta, v, X, y, masks, (int) L, w, act, loss, B, scale, NULL);
  PetscCheck(l[0] == l[1] && !memcmp(g[0], g[1], sizeof(PetscReal) * P) && !memcmp(h[0], h[1], sizeof(PetscReal) * P),
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "the model differs from its kernels: loss %.17g vs %.17g", (double) l[0],
             (double) l[1]);
  PetscCall(PetscFree4(theta, v, ws, ws2));
  PetscCall(PetscFree4(g[0], g[1], h[0], h[1]));
  PetscCall(SAModelDestroy(&m));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void test_prefix(void) { CU_ASSERT_EQUAL(CheckPrefix(), PETSC_SUCCESS); }
static void test_reference(void) { CU_ASSERT_EQUAL(CheckReference(), PETSC_SUCCESS); }
static void test_batch_type(void) { CU_ASSERT_EQUAL(CheckBatchType(), PETSC_SUCCESS); }
static void test_type_specific(void) { CU_ASSERT_EQUAL(CheckTypeSpecific(), PETSC_SUCCESS); }
static void test_rows_bitwise(void) { CU_ASSERT_EQUAL(CheckRowsBitwise(), PETSC_SUCCESS); }

int main(int argc, char **argv)
{
  int       nfail_all;
  CU_pSuite s;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SAInitialize());
  if (CU_initialize_registry() != CUE_SUCCESS) return EXIT_FAILURE;
  s = CU_add_suite("model", NULL, NULL);
  CU_add_test(s, "options prefix: critic_ reads -critic_model_*, not -model_*; appended prefixes", test_prefix);
  CU_add_test(s, "reference counting: PetscObjectReference, then two destroys", test_reference);
  CU_add_test(s, "a batch of a type the mlp does not take is PETSC_ERR_ARG_WRONG naming both", test_batch_type);
  CU_add_test(s, "mlp queries composed on the object; PETSC_ERR_SUP without the type", test_type_specific);
  CU_add_test(s, "forward, backward, HVP of a rows batch equal the kernels bitwise", test_rows_bitwise);
  PetscCall(SATestRunSuite(PETSC_COMM_WORLD, &nfail_all));
  PetscCall(SAFinalize());
  PetscCall(PetscFinalize());
  return nfail_all ? EXIT_FAILURE : EXIT_SUCCESS;
}
