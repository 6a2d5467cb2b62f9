/*
  deck_get.c - the typed deck getters: every key stabaudit reads is parsed strictly (integers, reals, booleans, enums,
  strings, lists), checked against its range or allowed values and recorded with its role (deck.c). A bad value is an
  error naming the deck file or the command line, the key, what was expected and what was given.
*/
#include <stabaudit/private/sadeckimpl.h>
#include <errno.h>
#include <string.h>
#include <ctype.h>
#include <stdlib.h>

static PetscErrorCode SADeckRaw(const char sec[], const char key[], char buf[], size_t len, PetscBool *set)
{
  char opt[192];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(opt, sizeof(opt), "-%s%s", sec, key));
  PetscCall(PetscOptionsGetString(NULL, NULL, opt, buf, len, set));
  PetscFunctionReturn(PETSC_SUCCESS);
}

#define SADeckBad(sec, key, got, ...)                                                                      \
  do {                                                                                                     \
    char sa_what_[512], sa_name_[160];                                                                     \
    PetscCall(PetscSNPrintf(sa_what_, sizeof(sa_what_), __VA_ARGS__));                                     \
    PetscCall(PetscSNPrintf(sa_name_, sizeof(sa_name_), "%s%s", sec, key));                                \
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "%s%s%s: key '%s' (option -%s): expected %s, got '%s'", \
            SADeckOrigin_Private(sa_name_) == SADeckFile ? "deck '" : "", SADeckOrigin_Private(sa_name_),  \
            SADeckOrigin_Private(sa_name_) == SADeckFile ? "'" : "", sa_name_, sa_name_, sa_what_, got);   \
  } while (0)

static PetscBool SADeckParseInt(const char *s, PetscInt *v)
{
  char     *end;
  long long x;

  while (isspace((unsigned char) *s)) s++;
  if (!*s) return PETSC_FALSE;
  errno = 0;
  x     = strtoll(s, &end, 10);
  while (isspace((unsigned char) *end)) end++;
  if (errno || *end || x > PETSC_MAX_INT || x < PETSC_MIN_INT) return PETSC_FALSE;
  *v = (PetscInt) x;
  return PETSC_TRUE;
}

static PetscBool SADeckParseReal(const char *s, PetscReal *v)
{
  char  *end;
  double x;

  while (isspace((unsigned char) *s)) s++;
  if (!*s) return PETSC_FALSE;
  errno = 0;
  x     = strtod(s, &end);
  while (isspace((unsigned char) *end)) end++;
  if (errno || *end || x != x) return PETSC_FALSE;
  *v = (PetscReal) x;
  return PETSC_TRUE;
}

/*@C
  SADeckGetInt - Reads an integer key of a deck section, checks its range and records it

  Collective (every rank reads the same database)

  Input Parameters:
+ sec - the section prefix, e.g. "campaign_" ("" for top level)
. key - the key, e.g. "steps"
. def - the default
. lo  - smallest allowed value
- hi  - largest allowed value

  Output Parameters:
+ v   - the value
- set - whether the deck or command line set it (may be NULL)

  Notes:
  A non-integer or out-of-range value is an error of type `PETSC_ERR_USER_INPUT` naming the file,
  the key and the range.

  Level: developer

.seealso: `SADeckGetReal()`, `SADeckGetEnum()`, `SADeckCheckUnused()`
@*/
PetscErrorCode SADeckGetInt(const char sec[], const char key[], PetscInt def, PetscInt lo, PetscInt hi, PetscInt *v,
                            PetscBool *set)
{
  char      buf[SA_DECK_VALUE_LEN], res[64];
  PetscBool flg;

  PetscFunctionBeginUser;
  PetscCall(SADeckRaw(sec, key, buf, sizeof(buf), &flg));
  *v = def;
  if (flg && !SADeckParseInt(buf, v))
    SADeckBad(sec, key, buf, "an integer in [%" PetscInt_FMT ", %" PetscInt_FMT "]", lo, hi);
  if (*v < lo || *v > hi) SADeckBad(sec, key, buf, "an integer in [%" PetscInt_FMT ", %" PetscInt_FMT "]", lo, hi);
  PetscCall(PetscSNPrintf(res, sizeof(res), "%" PetscInt_FMT, *v));
  PetscCall(SADeckRecord_Private(sec, key, res));
  if (set) *set = flg;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADeckGetReal - Reads a real key of a deck section, checks its range and records it

  Collective

  Input Parameters:
+ sec - the section prefix
. key - the key
. def - the default
. lo  - smallest allowed value
- hi  - largest allowed value (PETSC_MAX_REAL for none)

  Output Parameters:
+ v   - the value
- set - whether it was set (may be NULL)

  Level: developer

.seealso: `SADeckGetInt()`
@*/
PetscErrorCode SADeckGetReal(const char sec[], const char key[], PetscReal def, PetscReal lo, PetscReal hi,
                             PetscReal *v, PetscBool *set)
{
  char      buf[SA_DECK_VALUE_LEN], res[64];
  PetscBool flg;

  PetscFunctionBeginUser;
  PetscCall(SADeckRaw(sec, key, buf, sizeof(buf), &flg));
  *v = def;
  if (flg && !SADeckParseReal(buf, v)) SADeckBad(sec, key, buf, "a real number in [%g, %g]", (double) lo, (double) hi);
  if (!(*v >= lo && *v <= hi)) SADeckBad(sec, key, buf, "a real number in [%g, %g]", (double) lo, (double) hi);
  PetscCall(PetscSNPrintf(res, sizeof(res), "%.17g", (double) *v));
  PetscCall(SADeckRecord_Private(sec, key, res));
  if (set) *set = flg;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADeckGetBool - Reads a boolean key (true/false, yes/no, on/off, 1/0) and records it

  Collective

  Input Parameters:
+ sec - the section prefix
. key - the key
- def - the default

  Output Parameters:
+ v   - the value
- set - whether it was set (may be NULL)

  Level: developer

.seealso: `SADeckGetInt()`
@*/
PetscErrorCode SADeckGetBool(const char sec[], const char key[], PetscBool def, PetscBool *v, PetscBool *set)
{
  char      buf[SA_DECK_VALUE_LEN];
  PetscBool flg;

  PetscFunctionBeginUser;
  PetscCall(SADeckRaw(sec, key, buf, sizeof(buf), &flg));
  *v = def;
  if (flg) {
    if (!strcasecmp(buf, "true") || !strcasecmp(buf, "yes") || !strcasecmp(buf, "on") || !strcmp(buf, "1") || !buf[0])
      *v = PETSC_TRUE;
    else if (!strcasecmp(buf, "false") || !strcasecmp(buf, "no") || !strcasecmp(buf, "off") || !strcmp(buf, "0"))
      *v = PETSC_FALSE;
    else SADeckBad(sec, key, buf, "a boolean (true, false)");
  }
  PetscCall(SADeckRecord_Private(sec, key, *v ? "true" : "false"));
  if (set) *set = flg;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADeckGetEnum - Reads a key whose value is one of a list of names and records it

  Collective

  Input Parameters:
+ sec  - the section prefix
. key  - the key
. list - the allowed names
. n    - their number
- idx  - on input the default index

  Output Parameters:
+ idx - index of the value in list
- set - whether it was set (may be NULL)

  Level: developer

.seealso: `SADeckGetString()`
@*/
PetscErrorCode SADeckGetEnum(const char sec[], const char key[], const char *const list[], PetscInt n, PetscInt *idx,
                             PetscBool *set)
{
  char      buf[SA_DECK_VALUE_LEN], allowed[512] = "one of";
  PetscBool flg;

  PetscFunctionBeginUser;
  PetscCall(SADeckRaw(sec, key, buf, sizeof(buf), &flg));
  if (flg) {
    PetscInt found = -1;

    for (PetscInt i = 0; i < n; i++)
      if (!strcmp(buf, list[i])) found = i;
    if (found < 0) {
      for (PetscInt i = 0; i < n; i++) {
        PetscCall(PetscStrlcat(allowed, i ? ", " : " ", sizeof(allowed)));
        PetscCall(PetscStrlcat(allowed, list[i], sizeof(allowed)));
      }
      SADeckBad(sec, key, buf, "%s", allowed);
    }
    *idx = found;
  }
  PetscCall(SADeckRecord_Private(sec, key, list[*idx]));
  if (set) *set = flg;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADeckGetString - Reads a free-form string key and records it

  Collective

  Input Parameters:
+ sec - the section prefix
. key - the key
. def - the default (may be NULL for "")
- len - size of buf

  Output Parameters:
+ buf - the value
- set - whether it was set (may be NULL)

  Level: developer

.seealso: `SADeckGetEnum()`
@*/
PetscErrorCode SADeckGetString(const char sec[], const char key[], const char def[], char buf[], size_t len,
                               PetscBool *set)
{
  PetscBool flg;
  char      quoted[SA_DECK_VALUE_LEN];

  PetscFunctionBeginUser;
  PetscCall(SADeckRaw(sec, key, buf, len, &flg));
  if (!flg) PetscCall(PetscStrncpy(buf, def ? def : "", len));
  PetscCall(PetscSNPrintf(quoted, sizeof(quoted), "\"%s\"", buf));
  PetscCall(SADeckRecord_Private(sec, key, quoted));
  if (set) *set = flg;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* splits a comma list in place; returns the number of items */
static PetscErrorCode SADeckSplit(char buf[], PetscInt max, char *items[], PetscInt *n, const char sec[],
                                  const char key[])
{
  char *s = buf, *c;

  PetscFunctionBeginUser;
  *n = 0;
  if (!buf[0]) PetscFunctionReturn(PETSC_SUCCESS);
  while (s) {
    c = strchr(s, ',');
    if (c) *c = 0;
    while (isspace((unsigned char) *s)) s++;
    if (*n >= max) SADeckBad(sec, key, "(too long)", "a list of at most %" PetscInt_FMT " items", max);
    items[(*n)++] = s;
    s             = c ? c + 1 : NULL;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* reads a list of integers (iv) or reals (rv), checks each against [lo, hi] and records it */
static PetscErrorCode SADeckGetNumberList(const char sec[], const char key[], PetscBool isint, PetscReal lo,
                                          PetscReal hi, PetscInt *n, PetscReal rv[], PetscInt iv[], PetscBool *set)
{
  char      buf[SA_DECK_VALUE_LEN], copy[SA_DECK_VALUE_LEN], res[SA_DECK_VALUE_LEN] = "[", *items[256];
  PetscBool flg;
  PetscInt  m = 0;

  PetscFunctionBeginUser;
  PetscCall(SADeckRaw(sec, key, buf, sizeof(buf), &flg));
  if (flg) {
    PetscCall(PetscStrncpy(copy, buf, sizeof(copy)));
    PetscCall(SADeckSplit(copy, 256, items, &m, sec, key));
    for (PetscInt i = 0; i < m; i++) {
      PetscBool ok = isint ? SADeckParseInt(items[i], &iv[i]) : SADeckParseReal(items[i], &rv[i]);
      PetscReal x  = isint ? (PetscReal) iv[i] : rv[i];

      if (!ok || !(x >= lo && x <= hi)) {
        if (isint)
          SADeckBad(sec, key, buf, "a list of integers in [%" PetscInt_FMT ", %" PetscInt_FMT "]", (PetscInt) lo,
                    (PetscInt) hi);
        else SADeckBad(sec, key, buf, "a list of real numbers in [%g, %g]", (double) lo, (double) hi);
      }
    }
    *n = m;
  }
  for (PetscInt i = 0; i < *n; i++) {
    char item[64];

    if (isint) PetscCall(PetscSNPrintf(item, sizeof(item), "%s%" PetscInt_FMT, i ? ", " : "", iv[i]));
    else PetscCall(PetscSNPrintf(item, sizeof(item), "%s%.17g", i ? ", " : "", (double) rv[i]));
    PetscCall(PetscStrlcat(res, item, sizeof(res)));
  }
  PetscCall(PetscStrlcat(res, "]", sizeof(res)));
  PetscCall(SADeckRecord_Private(sec, key, res));
  if (set) *set = flg;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADeckGetRealArray - Reads a list of reals (YAML [a, b, c]), checks each and records it

  Collective

  Input Parameters:
+ sec - the section prefix
. key - the key
. lo  - smallest allowed value
. hi  - largest allowed value
- n   - on input the default length (v holds the defaults; v must have room for 256 values)

  Output Parameters:
+ n   - the number of values
. v   - the values
- set - whether it was set (may be NULL)

  Level: developer

.seealso: `SADeckGetIntArray()`
@*/
PetscErrorCode SADeckGetRealArray(const char sec[], const char key[], PetscReal lo, PetscReal hi, PetscInt *n,
                                  PetscReal v[], PetscBool *set)
{
  PetscFunctionBeginUser;
  PetscCall(SADeckGetNumberList(sec, key, PETSC_FALSE, lo, hi, n, v, NULL, set));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADeckGetIntArray - Reads a list of integers, checks each and records it

  Collective

  Input Parameters:
+ sec - the section prefix
. key - the key
. lo  - smallest allowed value
. hi  - largest allowed value
- n   - on input the default length (v holds the defaults; v must have room for 256 values)

  Output Parameters:
+ n   - the number of values
. v   - the values
- set - whether it was set (may be NULL)

  Level: developer

.seealso: `SADeckGetRealArray()`
@*/
PetscErrorCode SADeckGetIntArray(const char sec[], const char key[], PetscInt lo, PetscInt hi, PetscInt *n,
                                 PetscInt v[], PetscBool *set)
{
  PetscFunctionBeginUser;
  PetscCall(SADeckGetNumberList(sec, key, PETSC_TRUE, (PetscReal) lo, (PetscReal) hi, n, NULL, v, set));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADeckGetNameArray - Reads a list of names (lowercase letters, digits, underscores) and records it

  Collective

  Input Parameters:
+ sec - the section prefix
- key - the key

  Output Parameters:
+ n     - the number of names (0 if unset)
. names - newly allocated array of strings; free with `PetscStrArrayDestroy()`
- set   - whether it was set (may be NULL)

  Level: developer

.seealso: `SADeckGetRealArray()`
@*/
PetscErrorCode SADeckGetNameArray(const char sec[], const char key[], PetscInt *n, char ***names, PetscBool *set)
{
  char      buf[SA_DECK_VALUE_LEN], copy[SA_DECK_VALUE_LEN], res[SA_DECK_VALUE_LEN] = "[", *items[256];
  PetscBool flg;
  PetscInt  m = 0;

  PetscFunctionBeginUser;
  PetscCall(SADeckRaw(sec, key, buf, sizeof(buf), &flg));
  if (flg) {
    PetscCall(PetscStrncpy(copy, buf, sizeof(copy)));
    PetscCall(SADeckSplit(copy, 256, items, &m, sec, key));
  }
  PetscCall(PetscMalloc1(m + 1, names));
  for (PetscInt i = 0; i < m; i++) {
    const char *s  = items[i];
    PetscBool   ok = (PetscBool) (islower((unsigned char) s[0]) != 0);

    for (const char *c = s; *c; c++)
      if (!(islower((unsigned char) *c) || isdigit((unsigned char) *c) || *c == '_')) ok = PETSC_FALSE;
    if (!ok)
      SADeckBad(sec, key, buf, "a list of names made of lowercase letters, digits and '_', starting with a letter");
    for (PetscInt j = 0; j < i; j++)
      if (!strcmp(s, (*names)[j])) SADeckBad(sec, key, buf, "a list of distinct names ('%s' repeats)", s);
    PetscCall(PetscStrallocpy(s, &(*names)[i]));
    PetscCall(PetscStrlcat(res, i ? ", " : "", sizeof(res)));
    PetscCall(PetscStrlcat(res, s, sizeof(res)));
  }
  (*names)[m] = NULL;
  *n          = m;
  PetscCall(PetscStrlcat(res, "]", sizeof(res)));
  PetscCall(SADeckRecord_Private(sec, key, res));
  if (set) *set = flg;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADeckGetType - Reads the key "type" of a section as one of the types registered in a PetscFunctionList

  Not Collective

  Input Parameters:
+ sec  - the section prefix, e.g. "task_" or "actor_model_"
. list - the class's registry
- def  - the default type (must be registered)

  Output Parameter:
. type - the type chosen (a name owned by the registry)

  Notes:
  The allowed values listed in an error are the registered types in alphabetical order (`SAFunctionListGetNames()`),
  so a type added with its class's Register function is accepted with no other change.

  Level: developer

.seealso: `SADeckGetEnum()`, `SAFunctionListGetNames()`
@*/
PetscErrorCode SADeckGetType(const char sec[], PetscFunctionList list, const char def[], const char **type)
{
  const char **names;
  PetscInt     n, idx = -1;

  PetscFunctionBeginUser;
  PetscCall(SAFunctionListGetNames(list, &n, &names));
  for (PetscInt i = 0; i < n; i++)
    if (!strcmp(def, names[i])) idx = i;
  PetscCheck(idx >= 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Default type %s of %stype is not registered", def, sec);
  PetscCall(SADeckGetEnum(sec, "type", names, n, &idx, NULL));
  *type = names[idx];
  PetscCall(PetscFree(names));
  PetscFunctionReturn(PETSC_SUCCESS);
}
