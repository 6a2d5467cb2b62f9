/*
  deck.c - YAML decks in PETSc's options database.

  A deck is read with PetscOptionsInsertFileYAML() into a private options object, then copied
  into the global database for every key the command line did not already set (the command line
  wins). Every key stabaudit reads goes through an SADeckGet*() getter, which parses it strictly,
  checks its range and records it (section, key, role, resolved value; the role is set for a block of reads with
  SADeckPushRole()/SADeckPopRole()). The record gives
    - SADeckCheckUnused(): unknown keys, reported with the keys allowed in their section;
    - SADeckGetResolved(): the resolved deck (every key with its value, defaults included);
    - SADeckCompareResolved(): whether a campaign directory may be resumed with this deck.
  Errors name the deck file (or the command line), the key and the allowed values or range.
  The typed getters are in deck_get.c.
*/
#include <stabaudit/private/sadeckimpl.h>
#include <yaml.h>
#include <errno.h>
#include <string.h>
#include <ctype.h>
#include <stdlib.h>
#include <stdarg.h>

typedef struct {
  char      name[160];                /* option name without the dash, e.g. task_quadratic_dim */
  char      section[128];             /* prefix, e.g. task_quadratic_ ("" at top level) */
  char      key[64];                  /* key inside the section, e.g. dim */
  SAKeyRole role;                     /* result, extensible or control */
  char      value[SA_DECK_VALUE_LEN]; /* resolved value in YAML syntax */
} SADeckKey;

char                SADeckFile[PETSC_MAX_PATH_LEN] = "";
static PetscOptions SADeckOptions                  = NULL; /* what the file itself holds */
static SADeckKey   *SADeckKeys                     = NULL;
static PetscInt     SADeckNKeys = 0, SADeckMaxKeys = 0;
static SAKeyRole    SADeckRole = SA_KEY_RESULT; /* the role of the keys read next: the top of the stack */
static SAKeyRole    SADeckRoleStack[8];         /* the roles SADeckPushRole() saved */
static PetscInt     SADeckRoleDepth = 0;

/* options PETSc (not stabaudit) reads; they are never reported as unknown */
/* (the probe_ entries: SLEPc options of the probes' solvers, -probe_eps_*, -probe_jac_eps_*, -probe_jac_svd_*) */
static const char *const SADeckPetscPrefixes[] = {
  "log_",         "malloc",    "info",       "options_",  "help",
  "version",      "on_error",  "fp_trap",    "check_",    "viewer_",
  "petsc",        "no_signal", "error_",     "debugger",  "start_in_debugger",
  "memory_",      "objects_",  "mpi_",       "saws",      "use_gpu_aware_mpi",
  "skip_petscrc", "device_",   "probe_eps_", "probe_st_", "probe_bv_",
  "probe_ds_",    "probe_rg_", "probe_jac_", NULL};

/* the origin of a key for messages: the deck file, unless the command line set (and so overrode) it */
const char *SADeckOrigin_Private(const char name[])
{
  PetscBool has = PETSC_FALSE, hasg            = PETSC_FALSE;
  char      opt[192], vdeck[SA_DECK_VALUE_LEN] = "", vnow[SA_DECK_VALUE_LEN] = "";

  if (SADeckOptions) {
    PetscSNPrintf(opt, sizeof(opt), "-%s", name);
    PetscOptionsGetString(SADeckOptions, NULL, opt, vdeck, sizeof(vdeck), &has);
    PetscOptionsGetString(NULL, NULL, opt, vnow, sizeof(vnow), &hasg);
    if (has && hasg && strcmp(vdeck, vnow)) has = PETSC_FALSE;
  }
  return has ? SADeckFile : "the command line";
}

/* a syntax check with libyaml, so that a malformed deck is reported with its line and column */
static PetscErrorCode SADeckCheckSyntax(const char file[])
{
  FILE         *fp;
  yaml_parser_t parser;
  yaml_event_t  event;
  int           done = 0, ok = 1;
  char          msg[512] = "";

  PetscFunctionBeginUser;
  fp = fopen(file, "rb");
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "deck '%s': cannot open it: %s", file, strerror(errno));
  PetscCheck(yaml_parser_initialize(&parser), PETSC_COMM_SELF, PETSC_ERR_MEM, "libyaml: cannot initialise a parser");
  yaml_parser_set_input_file(&parser, fp);
  while (!done) {
    if (!yaml_parser_parse(&parser, &event)) {
      ok = 0;
      PetscCall(PetscSNPrintf(msg, sizeof(msg), "deck '%s', line %d, column %d: YAML syntax error: %s%s%s", file,
                              (int) parser.problem_mark.line + 1, (int) parser.problem_mark.column + 1,
                              parser.problem ? parser.problem : "unknown problem", parser.context ? " " : "",
                              parser.context ? parser.context : ""));
      break;
    }
    done = (event.type == YAML_STREAM_END_EVENT);
    yaml_event_delete(&event);
  }
  yaml_parser_delete(&parser);
  fclose(fp);
  PetscCheck(ok, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "%s", msg);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADeckLoad - Loads a YAML deck into the options database; options on the command line win

  Collective

  Input Parameters:
+ comm - communicator of all ranks that read the deck
. file - the deck (YAML)
. argc - unused, kept for symmetry with `PetscInitialize()`
- argv - unused

  Notes:
  Nested maps become option prefixes, scalar lists comma lists (`PetscOptionsInsertFileYAML()`).
  PETSc 3.18 rejects lists of multi-key maps: repeated blocks are named, and each name is the
  prefix of its own block. A malformed deck is a clear error naming the file, line and column.

  Level: beginner

.seealso: `SADeckCheckUnused()`, `SADeckGetInt()`
@*/
PetscErrorCode SADeckLoad(MPI_Comm comm, const char file[], int argc, char **argv)
{
  PetscInt       n;
  char         **names, **values;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(SADeckFile, file, sizeof(SADeckFile)));
  PetscCall(SADeckCheckSyntax(file));
  PetscCall(PetscOptionsDestroy(&SADeckOptions));
  PetscCall(PetscOptionsCreate(&SADeckOptions));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = PetscOptionsInsertFileYAML(comm, SADeckOptions, file, PETSC_TRUE);
  PetscCall(PetscPopErrorHandler());
  if (ierr) {
    const char *text;
    char       *specific = NULL;

    PetscCall(PetscErrorMessage(ierr, &text, &specific));
    SETERRQ(comm, PETSC_ERR_USER_INPUT,
            "deck '%s': unsupported structure: %s. Scalars, scalar lists and nested maps are allowed; repeated blocks "
            "are named, e.g. 'perturbations: [spike, kick]' with 'spike: {kind: lr_spike, ...}'",
            file, specific ? specific : text);
  }
  PetscCall(PetscOptionsLeftGet(SADeckOptions, &n, &names, &values));
  for (PetscInt i = 0; i < n; i++) {
    char      opt[192];
    PetscBool has;

    PetscCall(PetscSNPrintf(opt, sizeof(opt), "-%s", names[i]));
    PetscCall(PetscOptionsHasName(NULL, NULL, opt, &has));
    if (!has) PetscCall(PetscOptionsSetValue(NULL, opt, values[i]));
  }
  PetscCall(PetscOptionsLeftRestore(SADeckOptions, &n, &names, &values));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADeckReset - Forgets the loaded deck and the recorded keys

  Not Collective

  Level: developer

.seealso: `SADeckLoad()`
@*/
PetscErrorCode SADeckReset(void)
{
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsDestroy(&SADeckOptions));
  PetscCall(PetscFree(SADeckKeys));
  SADeckNKeys = SADeckMaxKeys = 0;
  SADeckFile[0]               = 0;
  SADeckRole                  = SA_KEY_RESULT;
  SADeckRoleDepth             = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char *const SAKeyRoleNames[] = {"result", "extensible", "control", "command"};

/*@C
  SADeckPushRole - Sets the role recorded for the keys read next, until the matching `SADeckPopRole()`

  Not Collective

  Input Parameter:
. role - `SA_KEY_RESULT` (the role outside any push), `SA_KEY_EXTENSIBLE`, `SA_KEY_CONTROL` or `SA_KEY_COMMAND`

  Notes:
  Pushes nest; each push is closed by a pop of the same role in the same function, e.g.
.vb
  PetscCall(SADeckPushRole(SA_KEY_CONTROL));
  PetscCall(SADeckGetString("", "o", def, dir, sizeof(dir), NULL));
  PetscCall(SADeckPopRole(SA_KEY_CONTROL));
.ve
  `SADeckCheckUnused()` fails if a push was not popped.

  Level: developer

.seealso: `SADeckPopRole()`, `SADeckCompareResolved()`, `SADeckGetResolved()`
@*/
PetscErrorCode SADeckPushRole(SAKeyRole role)
{
  PetscFunctionBeginUser;
  PetscCheck(role >= SA_KEY_RESULT && role <= SA_KEY_COMMAND, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "Unknown SAKeyRole %d", (int) role);
  PetscCheck(SADeckRoleDepth < (PetscInt) PETSC_STATIC_ARRAY_LENGTH(SADeckRoleStack), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "SADeckPushRole(%s): roles nested deeper than %d", SAKeyRoleNames[role],
             (int) PETSC_STATIC_ARRAY_LENGTH(SADeckRoleStack));
  SADeckRoleStack[SADeckRoleDepth++] = SADeckRole;
  SADeckRole                         = role;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADeckPopRole - Restores the role that the matching `SADeckPushRole()` replaced

  Not Collective

  Input Parameter:
. role - the role that push set (checked: a pop that does not match its push is an error)

  Level: developer

.seealso: `SADeckPushRole()`
@*/
PetscErrorCode SADeckPopRole(SAKeyRole role)
{
  PetscFunctionBeginUser;
  PetscCheck(SADeckRoleDepth > 0, PETSC_COMM_SELF, PETSC_ERR_ORDER, "SADeckPopRole() without SADeckPushRole()");
  PetscCheck(role == SADeckRole, PETSC_COMM_SELF, PETSC_ERR_ORDER,
             "SADeckPopRole(%s) does not match SADeckPushRole(%s)",
             SAKeyRoleNames[role >= 0 && role <= SA_KEY_COMMAND ? role : 0], SAKeyRoleNames[SADeckRole]);
  SADeckRole = SADeckRoleStack[--SADeckRoleDepth];
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SADeckRecord_Private(const char sec[], const char key[], const char value[])
{
  char       name[160];
  SADeckKey *k = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s%s", sec, key));
  for (PetscInt i = 0; i < SADeckNKeys; i++)
    if (!strcmp(SADeckKeys[i].name, name)) k = &SADeckKeys[i];
  if (!k) {
    if (SADeckNKeys == SADeckMaxKeys) {
      SADeckMaxKeys = SADeckMaxKeys ? 2 * SADeckMaxKeys : 128;
      PetscCall(PetscRealloc(sizeof(SADeckKey) * SADeckMaxKeys, &SADeckKeys));
    }
    k = &SADeckKeys[SADeckNKeys++];
    PetscCall(PetscMemzero(k, sizeof(*k)));
    PetscCall(PetscStrncpy(k->name, name, sizeof(k->name)));
    PetscCall(PetscStrncpy(k->section, sec, sizeof(k->section)));
    PetscCall(PetscStrncpy(k->key, key, sizeof(k->key)));
  }
  k->role = SADeckRole;
  PetscCall(PetscStrncpy(k->value, value, sizeof(k->value)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADeckCheckFile - Checks that a data file named by a deck key can be read

  Not Collective

  Input Parameters:
+ sec   - the section prefix
. key   - the key that names the file
. path  - the file
- howto - how a user installs it (e.g. "apt-get install dataset-fashion-mnist")

  Level: developer

.seealso: `SADeckGetString()`
@*/
PetscErrorCode SADeckCheckFile(const char sec[], const char key[], const char path[], const char howto[])
{
  FILE *fp = fopen(path, "rb");

  PetscFunctionBeginUser;
  if (!fp) {
    char name[160];

    PetscCall(PetscSNPrintf(name, sizeof(name), "%s%s", sec, key));
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "%s%s%s: key '%s': data file '%s' cannot be read (%s)%s%s",
            SADeckOrigin_Private(name) == SADeckFile ? "deck '" : "", SADeckOrigin_Private(name),
            SADeckOrigin_Private(name) == SADeckFile ? "'" : "", name, path, strerror(errno), howto ? "; " : "",
            howto ? howto : "");
  }
  fclose(fp);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* PETSc's own options: the prefixes above, and every viewer option -<prefix><class>_view (PetscObjectViewFromOptions:
   -model_view, -actor_task_view, -probe_view, ...), which the classes read only when they are set up or viewed */
static PetscBool SADeckIsPetscOption(const char name[])
{
  size_t n = strlen(name);

  if (n >= 5 && !strcmp(name + n - 5, "_view")) return PETSC_TRUE;
  for (PetscInt i = 0; SADeckPetscPrefixes[i]; i++)
    if (!strncmp(name, SADeckPetscPrefixes[i], strlen(SADeckPetscPrefixes[i]))) return PETSC_TRUE;
  return PETSC_FALSE;
}

/*@C
  SADeckCheckUnused - Fails if the database holds a key that no getter has read (a typo)

  Collective

  Input Parameter:
. comm - the communicator to raise the error on

  Notes:
  Call after every object of the campaign has read its options. The message names the file,
  the unknown key and the keys allowed in its section (the longest recorded prefix).

  Level: developer

.seealso: `SADeckLoad()`
@*/
PetscErrorCode SADeckCheckUnused(MPI_Comm comm)
{
  PetscInt n;
  char   **names, **values;
  char     msg[2048] = "";
  PetscInt nbad      = 0;

  PetscFunctionBeginUser;
  PetscCheck(!SADeckRoleDepth, PETSC_COMM_SELF, PETSC_ERR_ORDER,
             "SADeckPushRole(%s) was not popped before the deck check", SAKeyRoleNames[SADeckRole]);
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt i = 0; i < n; i++) {
    const char *best          = NULL;
    size_t      blen          = 0;
    char        allowed[1024] = "";

    if (SADeckIsPetscOption(names[i])) continue;
    if (nbad++) continue;
    for (PetscInt j = 0; j < SADeckNKeys; j++) {
      size_t l = strlen(SADeckKeys[j].section);
      if (l > blen && !strncmp(names[i], SADeckKeys[j].section, l)) best = SADeckKeys[j].section, blen = l;
    }
    for (PetscInt j = 0; j < SADeckNKeys; j++) {
      char item[100], probe[104];

      if (best) {
        if (strcmp(SADeckKeys[j].section, best)) continue;
        PetscCall(PetscStrncpy(item, SADeckKeys[j].key, sizeof(item)));
      } else { /* top level: the first word of every recorded key */
        PetscCall(
          PetscSNPrintf(item, sizeof(item), "%.*s", (int) strcspn(SADeckKeys[j].name, "_"), SADeckKeys[j].name));
      }
      PetscCall(PetscSNPrintf(probe, sizeof(probe), " %s,", item));
      if (strstr(allowed, probe)) continue;
      PetscCall(PetscStrlcat(allowed, probe, sizeof(allowed)));
    }
    if (allowed[0]) allowed[strlen(allowed) - 1] = 0;
    if (best) {
      PetscCall(PetscSNPrintf(msg, sizeof(msg),
                              "%s%s%s: unknown key '%s' in section '%.*s' (option -%s); allowed keys there:%s",
                              SADeckOrigin_Private(names[i]) == SADeckFile ? "deck '" : "",
                              SADeckOrigin_Private(names[i]), SADeckOrigin_Private(names[i]) == SADeckFile ? "'" : "",
                              names[i] + blen, (int) blen - 1, best, names[i], allowed));
    } else {
      PetscCall(PetscSNPrintf(msg, sizeof(msg), "%s%s%s: unknown key '%s' (option -%s); allowed top-level keys:%s",
                              SADeckOrigin_Private(names[i]) == SADeckFile ? "deck '" : "",
                              SADeckOrigin_Private(names[i]), SADeckOrigin_Private(names[i]) == SADeckFile ? "'" : "",
                              names[i], names[i], allowed));
    }
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  if (nbad > 1) {
    char more[64];
    PetscCall(PetscSNPrintf(more, sizeof(more), " (and %" PetscInt_FMT " more unknown keys)", nbad - 1));
    PetscCall(PetscStrlcat(msg, more, sizeof(msg)));
  }
  PetscCheck(!nbad, comm, PETSC_ERR_USER_INPUT, "%s", msg);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADeckGetResolved - Returns the resolved deck: every recorded key with its value, as YAML

  Not Collective

  Output Parameter:
. text - newly allocated text; free with `PetscFree()`

  Notes:
  Keys are written flat (`task_quadratic_dim: 64`), which `PetscOptionsInsertFileYAML()` reads back
  as the same options; each line carries its role as a comment. Keys of role `SA_KEY_COMMAND` (options of one
  command, e.g. -slurm_nodes) are left out: the resolved deck is a deck `stabaudit run` accepts.

  Level: developer

.seealso: `SADeckCompareResolved()`
@*/
PetscErrorCode SADeckGetResolved(char **text)
{
  size_t len = 256;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < SADeckNKeys; i++) len += strlen(SADeckKeys[i].name) + strlen(SADeckKeys[i].value) + 32;
  PetscCall(PetscCalloc1(len, text));
  PetscCall(PetscStrlcat(*text, "# resolved stabaudit deck: every key with its value (defaults included)\n", len));
  for (PetscInt i = 0; i < SADeckNKeys; i++) {
    char line[SA_DECK_VALUE_LEN + 256];

    if (SADeckKeys[i].role == SA_KEY_COMMAND) continue; /* an option of this command, not of the campaign */
    PetscCall(PetscSNPrintf(line, sizeof(line), "%s: %s  # %s\n", SADeckKeys[i].name, SADeckKeys[i].value,
                            SAKeyRoleNames[SADeckKeys[i].role]));
    PetscCall(PetscStrlcat(*text, line, len));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* finds "name: value  # role" in a resolved deck; returns value and role */
static PetscBool SADeckFindLine(const char text[], const char name[], char value[], size_t len, char role[],
                                size_t rlen)
{
  const char *p   = text;
  size_t      nl_ = strlen(name);

  while (p && *p) {
    if (!strncmp(p, name, nl_) && p[nl_] == ':') {
      const char *v = p + nl_ + 2, *h = strstr(v, "  # "), *e = strchr(v, '\n');
      size_t      n;

      if (!h || (e && h > e)) return PETSC_FALSE;
      n = (size_t) (h - v) < len - 1 ? (size_t) (h - v) : len - 1;
      memcpy(value, v, n);
      value[n] = 0;
      n        = e ? (size_t) (e - h - 4) : strlen(h + 4);
      if (n > rlen - 1) n = rlen - 1;
      memcpy(role, h + 4, n);
      role[n] = 0;
      return PETSC_TRUE;
    }
    p = strchr(p, '\n');
    if (p) p++;
  }
  return PETSC_FALSE;
}

/*@C
  SADeckCompareResolved - Checks that a campaign directory made with an earlier deck may continue with this one

  Not Collective

  Input Parameters:
+ old  - the resolved deck stored in the directory
. now  - the resolved deck of this run (`SADeckGetResolved()`)
- dir  - the directory (for the message)

  Notes:
  Keys whose role is "result" must have the same value; lists marked "extensible" (seeds,
  magnitudes, sweep values, perturbations) may change (the member table keeps existing ids);
  "control" keys may change freely.

  Level: developer

.seealso: `SADeckGetResolved()`
@*/
PetscErrorCode SADeckCompareResolved(const char old[], const char now[], const char dir[])
{
  const char *p = old;

  PetscFunctionBeginUser;
  while (p && *p) {
    char        name[160], v0[SA_DECK_VALUE_LEN], r0[32], v1[SA_DECK_VALUE_LEN], r1[32];
    const char *colon = strchr(p, ':'), *e = strchr(p, '\n');

    if (*p != '#' && colon && (!e || colon < e) && (size_t) (colon - p) < sizeof(name)) {
      memcpy(name, p, (size_t) (colon - p));
      name[colon - p] = 0;
      if (SADeckFindLine(old, name, v0, sizeof(v0), r0, sizeof(r0)) && !strcmp(r0, "result")) {
        PetscBool now_has = SADeckFindLine(now, name, v1, sizeof(v1), r1, sizeof(r1));

        PetscCheck(now_has && !strcmp(v0, v1), PETSC_COMM_SELF, PETSC_ERR_USER_INPUT,
                   "campaign directory '%s' was made with a different deck: key '%s' was %s and is now %s; results "
                   "would not be comparable. Use a new -o directory (only seeds, magnitudes, sweep values, "
                   "perturbation blocks and run-control keys may change)",
                   dir, name, v0, now_has ? v1 : "absent");
      }
    }
    p = e ? e + 1 : NULL;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADeckError - Returns the message of the last error raised (for printing a user-input error once)

  Not Collective

  Input Parameter:
. ierr - the error code returned

  Output Parameter:
. msg - the specific message

  Level: developer

.seealso: `SADeckLoad()`
@*/
PetscErrorCode SADeckError(PetscErrorCode ierr, const char **msg)
{
  const char *text;
  char       *specific = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscErrorMessage(ierr, &text, &specific));
  *msg = specific && specific[0] ? specific : text;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADeckFail - Raises a deck error (`PETSC_ERR_USER_INPUT`) about a key, naming where the key came from

  Not Collective

  Input Parameters:
+ key - the option name without the dash, e.g. "campaign_record_every"
- fmt - printf-style explanation, followed by its arguments

  Notes:
  Always returns an error; use as `if (!ok) PetscCall(SADeckFail("key", "must be ...", ...));`.

  Level: developer

.seealso: `SADeckGetInt()`, `SADeckCheckUnused()`
@*/
PetscErrorCode SADeckFail(const char key[], const char fmt[], ...)
{
  char    msg[1024];
  size_t  len;
  va_list ap;

  PetscFunctionBeginUser;
  va_start(ap, fmt);
  PetscCall(PetscVSNPrintf(msg, sizeof(msg), fmt, &len, ap));
  va_end(ap);
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "%s%s%s: key '%s' (option -%s): %s",
          SADeckOrigin_Private(key) == SADeckFile ? "deck '" : "", SADeckOrigin_Private(key),
          SADeckOrigin_Private(key) == SADeckFile ? "'" : "", key, key, msg);
}
