/*
  blas.c - which BLAS runs dgemm_ in this process, and selection of the OpenBLAS core the CPU supports.

  OpenBLAS built with DYNAMIC_ARCH (Debian's libopenblas0-*) picks its kernel set ("core") once, when the
  library is loaded, from CPUID, unless OPENBLAS_CORETYPE names one. Version 0.3.21 does not know recent CPUs and
  falls back to an older core: Prescott (SSE3) on Intel family 6 model 207, Haswell (AVX2) on AMD family 26,
  although both have AVX-512 (TOOLCHAIN.md 3.3: a 1500^3 dgemm runs ~10 GF/s on Prescott, ~36 on Haswell,
  ~74 on SkylakeX). The library is already loaded when main() starts, so SABlasSelectCore() sets the variable
  and re-executes the program (execv of /proc/self/exe with the same argv and environment); the second image
  loads OpenBLAS with the variable set.

  The BLAS is identified by the library that defines the dgemm_ the program binds to (dladdr), not by a global
  lookup of openblas_get_config: another copy of OpenBLAS may be loaded next to a different libblas.so.3.

  Core levels (x86-64 OpenBLAS 0.3.x core names): 0 = pre-AVX, 1 = AVX, 2 = AVX2 + FMA, 3 = AVX-512
  (SkylakeX kernels use AVX-512 F, CD, BW, DQ and VL). The CPU's level comes from the first "flags" line of
  /proc/cpuinfo; the kernel drops flags whose register state the OS does not enable. Unknown core names are
  left alone.
*/
#define _GNU_SOURCE
#include <stabaudit/sablas.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef struct {
  const char *name;  /* OpenBLAS core name, as openblas_get_corename() and OPENBLAS_CORETYPE spell it */
  int         level; /* instruction-set level, see the file comment */
} SABlasCore;

static const SABlasCore SABlasCores[] = {
  {"Katmai", 0},      {"Coppermine", 0},    {"Northwood", 0},  {"Prescott", 0},  {"Banias", 0},      {"Atom", 0},
  {"Core2", 0},       {"Penryn", 0},        {"Dunnington", 0}, {"Nehalem", 0},   {"Athlon", 0},      {"Opteron", 0},
  {"OpteronSSE3", 0}, {"Barcelona", 0},     {"Nano", 0},       {"Bobcat", 0},    {"Sandybridge", 1}, {"Bulldozer", 1},
  {"Piledriver", 1},  {"Steamroller", 1},   {"Haswell", 2},    {"Excavator", 2}, {"Zen", 2},         {"SkylakeX", 3},
  {"Cooperlake", 3},  {"SapphireRapids", 3}};

/* the core OPENBLAS_CORETYPE is set to for a CPU of each level (NULL: nothing better than the fallback) */
static const char *const SABlasTarget[] = {NULL, "Sandybridge", "Haswell", "SkylakeX"};

typedef const char *(*SABlasStringFn)(void);
typedef int (*SABlasIntFn)(void);

typedef struct {
  char           path[PATH_MAX]; /* library defining dgemm_, as loaded ("" if dgemm_ is not found) */
  char           real[PATH_MAX]; /* its resolved path */
  SABlasStringFn config;         /* openblas_get_config, NULL if that library is not OpenBLAS */
  SABlasStringFn corename;       /* openblas_get_corename (may be NULL) */
  SABlasIntFn    nthreads;       /* openblas_get_num_threads (may be NULL) */
} SABlasInfo;

static char SABlasExecError[128]; /* why the re-exec failed, "" if it did not */

/* level of an OpenBLAS core name, -1 if unknown */
static int SABlasCoreLevel(const char *name)
{
  for (size_t i = 0; i < sizeof(SABlasCores) / sizeof(SABlasCores[0]); i++)
    if (!strcasecmp(name, SABlasCores[i].name)) return SABlasCores[i].level;
  return -1;
}

/* finds the library that defines the dgemm_ of the global scope and its OpenBLAS entry points */
static void SABlasFind(SABlasInfo *info)
{
  Dl_info dl;
  void   *f, *h;

  memset(info, 0, sizeof(*info));
  f = dlsym(RTLD_DEFAULT, "dgemm_");
  if (!f || !dladdr(f, &dl) || !dl.dli_fname) return;
  snprintf(info->path, sizeof(info->path), "%s", dl.dli_fname);
  if (!realpath(info->path, info->real)) snprintf(info->real, sizeof(info->real), "%s", info->path);
  h = dlopen(info->path, RTLD_LAZY | RTLD_NOLOAD); /* searches the library and its dependencies */
  if (!h) return;
  *(void **) &info->config   = dlsym(h, "openblas_get_config");
  *(void **) &info->corename = dlsym(h, "openblas_get_corename");
  *(void **) &info->nthreads = dlsym(h, "openblas_get_num_threads");
  dlclose(h); /* drops the reference dlopen added; the library stays loaded */
}

/* the core OpenBLAS runs: openblas_get_corename(), else the known core name among the config words */
static void SABlasCoreName(const SABlasInfo *info, char *name, size_t len)
{
  char        cfg[256], *tok, *save = NULL;
  const char *c;

  name[0] = 0;
  if (info->corename && (c = info->corename()) && c[0]) {
    snprintf(name, len, "%s", c);
    return;
  }
  snprintf(cfg, sizeof(cfg), "%s", info->config());
  for (tok = strtok_r(cfg, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
    if (SABlasCoreLevel(tok) >= 0) snprintf(name, len, "%s", tok);
}

static int SABlasHasFlag(const char *flags, const char *flag)
{
  size_t n = strlen(flag);

  for (const char *p = strstr(flags, flag); p; p = strstr(p + 1, flag))
    if ((p == flags || p[-1] == ' ' || p[-1] == '\t') && (p[n] == ' ' || p[n] == '\n' || p[n] == 0)) return 1;
  return 0;
}

/* instruction-set level of this CPU from /proc/cpuinfo, -1 if unreadable */
static int SABlasCPULevel(void)
{
  static const char *const skx[] = {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"};
  char                     line[16384]; /* one "flags" line: about 1500 characters on current CPUs */
  FILE                    *fp    = fopen("/proc/cpuinfo", "r");
  int                      level = -1;

  if (!fp) return -1;
  while (fgets(line, sizeof(line), fp))
    if (!strncmp(line, "flags", 5)) {
      int n512 = 0;

      for (size_t i = 0; i < sizeof(skx) / sizeof(skx[0]); i++) n512 += SABlasHasFlag(line, skx[i]);
      if (n512 == (int) (sizeof(skx) / sizeof(skx[0]))) level = 3;
      else if (SABlasHasFlag(line, "avx2") && SABlasHasFlag(line, "fma")) level = 2;
      else if (SABlasHasFlag(line, "avx")) level = 1;
      else level = 0;
      break;
    }
  fclose(fp);
  return level;
}

/* whether /proc/self/exe is this program: not when it was started through the dynamic loader or valgrind */
static int SABlasCanReexec(void)
{
  char        exe[PATH_MAX];
  ssize_t     n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  const char *base, *pre = getenv("LD_PRELOAD");

  if (n <= 0) return 0;
  exe[n] = 0;
  base   = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
  if (!strncmp(base, "ld-", 3) || !strncmp(base, "ld.so", 5)) return 0;
  if (pre && strstr(pre, "vgpreload")) return 0;
  return 1;
}

/*@C
  SABlasSelectCore - Makes OpenBLAS use the best kernel set ("core") the CPU supports, re-executing the program
  with OPENBLAS_CORETYPE set when the auto-detected core is older than the CPU

  Not Collective; call it first thing in main(), before PetscInitialize(), SlepcInitialize() or MPI_Init()

  Input Parameters:
+ argc - main()'s argc
- argv - main()'s argv (NULL-terminated, as main() receives it)

  Return Value:
  0 when the program should simply continue: the BLAS is not OpenBLAS, OPENBLAS_CORETYPE is set (by the user, or
  by this function before the re-exec), the OpenBLAS build is not DYNAMIC_ARCH, the detected core is unknown or
  already as good as the CPU allows. Returns errno when execv() failed; the program can continue on the
  auto-detected core (SABlasDescribe() says so). On success it does not return: the program restarts from main()
  with the same argv and environment plus OPENBLAS_CORETYPE and SA_BLAS_CORETYPE_SET.

  Environment Variables:
+ OPENBLAS_CORETYPE    - if set, even to a slower core, it is respected and nothing is done
- SA_BLAS_CORETYPE_SET - set to the chosen core before the re-exec; if present at entry the function returns 0
                         (loop guard)

  Notes:
  Plain C, not PETSc style: it runs before PETSc and MPI exist, and it may replace the process image, which is
  only safe before MPI_Init(). Under mpiexec or srun each rank re-executes itself before MPI_Init(); the PID,
  the environment (including the launcher's) and the open descriptors are kept. Standard output and error are
  flushed first. The CPU level is AVX-512 (F, CD, BW, DQ, VL) -> SkylakeX, AVX2 with FMA -> Haswell,
  AVX -> Sandybridge. It does nothing when the program was started through the dynamic loader or under valgrind,
  where /proc/self/exe is not the program.

  Level: beginner

.seealso: `SABlasDescribe()`
@*/
int SABlasSelectCore(int argc, char **argv)
{
  SABlasInfo  info;
  char        core[64];
  const char *target;
  int         cur, cpu, err;

  if (argc < 1 || !argv || !argv[0]) return 0;
  if (getenv("OPENBLAS_CORETYPE") || getenv(SA_BLAS_MARKER_ENV)) return 0;
  SABlasFind(&info);
  if (!info.config || !strstr(info.config(), "DYNAMIC_ARCH")) return 0;
  SABlasCoreName(&info, core, sizeof(core));
  cur = SABlasCoreLevel(core);
  cpu = SABlasCPULevel();
  if (cur < 0 || cpu <= cur || !(target = SABlasTarget[cpu]) || !SABlasCanReexec()) return 0;
  if (setenv("OPENBLAS_CORETYPE", target, 1) || setenv(SA_BLAS_MARKER_ENV, target, 1)) return errno;
  fflush(stdout);
  fflush(stderr);
  execv("/proc/self/exe", argv);
  err = errno;
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv(SA_BLAS_MARKER_ENV);
  snprintf(SABlasExecError, sizeof(SABlasExecError), "re-exec to select %s failed: %s", target, strerror(err));
  return err;
}

/*@C
  SABlasDescribe - A one-line description of the BLAS that runs dgemm_ in this process, for logs and run headers

  Not Collective

  Return Value:
  a static string, e.g.
  "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64, core SkylakeX, 1 thread
  (OPENBLAS_CORETYPE=SkylakeX set by stabaudit; CPU supports SkylakeX) [/usr/lib/.../libopenblasp-r0.3.21.so]"
  or "reference BLAS (libblas.so.3 -> /usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0)"

  Notes:
  Says whether OPENBLAS_CORETYPE was set by `SABlasSelectCore()`, by the user, or not at all (auto-detected
  core), and the best core for the CPU. The string is built on the first call; the thread count is the one in
  force then. Call it after `SABlasSelectCore()`; it may be called before or after PetscInitialize().

  Level: beginner

.seealso: `SABlasSelectCore()`
@*/
const char *SABlasDescribe(void)
{
  static char desc[2 * PATH_MAX + 1024];
  SABlasInfo  info;
  const char *base;

  if (desc[0]) return desc;
  SABlasFind(&info);
  if (!info.path[0]) {
    snprintf(desc, sizeof(desc), "no BLAS (dgemm_ not found)");
    return desc;
  }
  base = strrchr(info.path, '/') ? strrchr(info.path, '/') + 1 : info.path;
  if (info.config) {
    char        core[64], how[256], threads[32];
    const char *env = getenv("OPENBLAS_CORETYPE"), *mark = getenv(SA_BLAS_MARKER_ENV);
    int         cpu = SABlasCPULevel(), nt = info.nthreads ? info.nthreads() : -1;

    SABlasCoreName(&info, core, sizeof(core));
    if (SABlasExecError[0]) snprintf(how, sizeof(how), "OPENBLAS_CORETYPE unset, %s", SABlasExecError);
    else if (env && mark && !strcmp(env, mark))
      snprintf(how, sizeof(how), "OPENBLAS_CORETYPE=%s set by stabaudit%s", env,
               strcasecmp(env, core) ? ", not honoured" : "");
    else if (env)
      snprintf(how, sizeof(how), "OPENBLAS_CORETYPE=%s set by the user%s", env,
               strcasecmp(env, core) ? ", not honoured" : "");
    else snprintf(how, sizeof(how), "OPENBLAS_CORETYPE unset: auto-detected");
    threads[0] = 0;
    if (nt > 0) snprintf(threads, sizeof(threads), ", %d thread%s", nt, nt == 1 ? "" : "s");
    snprintf(desc, sizeof(desc), "%s, core %s%s (%s; CPU supports %s) [%s]", info.config(), core[0] ? core : "unknown",
             threads, how, cpu > 0 && SABlasTarget[cpu] ? SABlasTarget[cpu] : "pre-AVX cores only", info.real);
  } else if (strstr(info.real, "/blas/")) /* Debian's reference BLAS alternative; BLIS, ATLAS have their own dirs */
    snprintf(desc, sizeof(desc), "reference BLAS (%s -> %s)", base, info.real);
  else snprintf(desc, sizeof(desc), "BLAS of unknown kind (%s -> %s)", base, info.real);
  return desc;
}
