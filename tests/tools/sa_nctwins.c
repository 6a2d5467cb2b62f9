/* sa_nctwins: check the twin property of a stabaudit campaign results file (test tool).

   usage: sa_nctwins RESULTS.nc

   For every perturbed member (twin >= 0) every double variable with dimensions (member, step) must be bitwise
   identical to the row of its unperturbed twin at each recorded step whose value in the coordinate `step` is below
   the member's onset: a perturbation must not change anything before it starts. Any pre-onset difference fails,
   naming member, variable and step. The check also fails when it would check nothing: no perturbed member, no
   (member, step) double variable, or no pre-onset entry that is not missing in both rows. Differences at steps >=
   onset are only counted and reported. The twin of a perturbed member must itself be a twin (twin = -1).

   Exit status: 0 property holds, 1 violated or unreadable/unsuitable file, 2 usage error. */
#include <netcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXPRINT 20

static int get_ints(int nc, const char *name, int dim, size_t n, int **out)
{
  int v, nd, d, st;

  *out = NULL;
  if ((st = nc_inq_varid(nc, name, &v)) || (st = nc_inq_varndims(nc, v, &nd))) {
    fprintf(stderr, "sa_nctwins: variable %s: %s\n", name, nc_strerror(st));
    return 1;
  }
  if (nd != 1 || nc_inq_vardimid(nc, v, &d) || d != dim) {
    fprintf(stderr, "sa_nctwins: variable %s does not have the expected single dimension\n", name);
    return 1;
  }
  *out = malloc((n ? n : 1) * sizeof(int));
  if (!*out) return 1;
  if ((st = nc_get_var_int(nc, v, *out))) {
    fprintf(stderr, "sa_nctwins: reading %s: %s\n", name, nc_strerror(st));
    return 1;
  }
  return 0;
}

int main(int argc, char **argv)
{
  int     nc, st, dm, ds, nvars, nchecked_vars = 0, nperturbed = 0, fail = 0, nprinted = 0;
  size_t  M, S, ncompared = 0, nmissing = 0, nbad = 0, nafter = 0, nnopre = 0;
  int    *twin = NULL, *onset = NULL, *step = NULL, *after = NULL, *pre = NULL;
  double *data = NULL;

  if (argc != 2) {
    fprintf(stderr, "usage: sa_nctwins RESULTS.nc\n");
    return 2;
  }
  if ((st = nc_open(argv[1], NC_NOWRITE, &nc))) {
    fprintf(stderr, "sa_nctwins: %s: %s\n", argv[1], nc_strerror(st));
    return 1;
  }
  if (nc_inq_dimid(nc, "member", &dm) || nc_inq_dimid(nc, "step", &ds) || nc_inq_dimlen(nc, dm, &M) ||
      nc_inq_dimlen(nc, ds, &S)) {
    fprintf(stderr, "sa_nctwins: %s lacks the dimensions member and step\n", argv[1]);
    nc_close(nc);
    return 1;
  }
  if (get_ints(nc, "twin", dm, M, &twin) || get_ints(nc, "onset", dm, M, &onset) || get_ints(nc, "step", ds, S, &step))
    goto fail;
  after = calloc(M ? M : 1, sizeof(int));
  pre   = calloc(M ? M : 1, sizeof(int));
  data  = malloc((M * S + 1) * sizeof(double));
  if (!after || !pre || !data) goto fail;

  /* the pairs to check */
  for (size_t m = 0; m < M; m++) {
    int t = twin[m];

    if (t < 0) continue;
    nperturbed++;
    if ((size_t) t >= M || twin[t] >= 0 || t == (int) m || onset[m] == NC_FILL_INT) {
      fprintf(stderr, "sa_nctwins: member %zu: invalid twin %d (twin of twin %d) or onset %d\n", m, t,
              (size_t) t < M ? twin[t] : -1, onset[m]);
      fail = 1;
    }
  }
  if (fail) goto fail;
  if (!nperturbed) {
    fprintf(stderr, "sa_nctwins: no perturbed members (twin >= 0): nothing to check\n");
    goto fail;
  }

  nc_inq_nvars(nc, &nvars);
  for (int v = 0; v < nvars; v++) {
    char    name[NC_MAX_NAME + 1];
    int     nd, dims[NC_MAX_VAR_DIMS];
    nc_type t;
    double  fill = NC_FILL_DOUBLE;
    int     nofill;

    if (nc_inq_var(nc, v, name, &t, &nd, dims, NULL) || t != NC_DOUBLE || nd != 2 || dims[0] != dm || dims[1] != ds)
      continue;
    if ((st = nc_get_var_double(nc, v, data))) {
      fprintf(stderr, "sa_nctwins: reading %s: %s\n", name, nc_strerror(st));
      goto fail;
    }
    nc_inq_var_fill(nc, v, &nofill, &fill);
    nchecked_vars++;
    for (size_t m = 0; m < M; m++) {
      if (twin[m] < 0) continue;
      for (size_t k = 0; k < S; k++) {
        const double *a = &data[m * S + k], *b = &data[(size_t) twin[m] * S + k];
        int           same = !memcmp(a, b, sizeof(double));

        if (step[k] == NC_FILL_INT) continue;
        if (step[k] >= onset[m]) {
          if (!same) after[m] = 1;
          continue;
        }
        ncompared++;
        pre[m]++;
        if (same && *a == fill) nmissing++;
        if (same) continue;
        nbad++;
        if (nprinted++ < MAXPRINT)
          printf("member %zu (twin %d, onset %d): %s differs before onset at step %d (index %zu): %.17g vs %.17g\n", m,
                 twin[m], onset[m], name, step[k], k, *a, *b);
      }
    }
  }
  nc_close(nc);
  for (size_t m = 0; m < M; m++) {
    if (twin[m] < 0) continue;
    if (after[m]) nafter++;
    if (!pre[m]) nnopre++;
  }
  if (nprinted > MAXPRINT) printf("... %d more pre-onset differences not shown\n", nprinted - MAXPRINT);
  printf("sa_nctwins: %d perturbed members checked against their twins over %d (member, step) variables\n", nperturbed,
         nchecked_vars);
  printf("sa_nctwins: %zu pre-onset entries compared (%zu missing in both), %zu differ\n", ncompared, nmissing, nbad);
  if (nnopre) printf("sa_nctwins: %zu perturbed members have no recorded step before their onset\n", nnopre);
  printf("sa_nctwins: %zu of %d perturbed members differ from their twin at or after onset\n", nafter, nperturbed);
  if (!nchecked_vars) fprintf(stderr, "sa_nctwins: no double variable with dimensions (member, step)\n");
  else if (ncompared == nmissing) fprintf(stderr, "sa_nctwins: no pre-onset entry present: nothing was checked\n");
  fail = nbad || !nchecked_vars || ncompared == nmissing;
  printf("sa_nctwins: %s\n", fail ? "FAILED" : "twin property holds");
  free(twin), free(onset), free(step), free(after), free(pre), free(data);
  return fail;

fail:
  nc_close(nc);
  free(twin), free(onset), free(step), free(after), free(pre), free(data);
  return 1;
}
