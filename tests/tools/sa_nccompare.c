/* sa_nccompare: compare every variable of two netCDF files (test tool).

   usage: sa_nccompare A.nc B.nc [-rtol R] [-atol A] [-exclude v1,v2,...]

   Every variable of the root group of A is compared with the same-named variable of B; a variable present in only
   one of the files is a failure. Dimension names and lengths must agree. Global attributes and variable attributes
   are not compared.

   Without -rtol/-atol the values must be bitwise identical (two NaNs with the same bit pattern are equal).
   With -rtol R (and/or -atol A, both default 0) a numeric entry passes when |a-b| <= A + R*max(|a|,|b|); entries that
   are both missing (_FillValue), both NaN or the same Inf are equal, any other NaN/Inf mismatch fails. char and
   string variables must be identical in either mode. -exclude skips the named variables.

   For each differing variable it prints the number of differing entries, the largest absolute and relative
   differences and the first differing index, then one summary line.
   Exit status: 0 all equal (within tolerance), 1 difference or error, 2 usage error. */
#include <math.h>
#include <netcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int excluded(const char *name, const char *list)
{
  size_t n = strlen(name);

  for (const char *p = list; p && *p;) {
    const char *e   = strchr(p, ',');
    size_t      len = e ? (size_t) (e - p) : strlen(p);

    if (len == n && !strncmp(p, name, n)) return 1;
    p = e ? e + 1 : NULL;
  }
  return 0;
}

/* the value of entry i of a numeric variable (long double holds every int64 exactly); *ok = 0 if not numeric */
static long double value(nc_type t, const void *buf, size_t i, int *ok)
{
  *ok = 1;
  switch (t) {
  case NC_BYTE: return ((const signed char *) buf)[i];
  case NC_UBYTE: return ((const unsigned char *) buf)[i];
  case NC_SHORT: return ((const short *) buf)[i];
  case NC_USHORT: return ((const unsigned short *) buf)[i];
  case NC_INT: return ((const int *) buf)[i];
  case NC_UINT: return ((const unsigned int *) buf)[i];
  case NC_INT64: return ((const long long *) buf)[i];
  case NC_UINT64: return ((const unsigned long long *) buf)[i];
  case NC_FLOAT: return ((const float *) buf)[i];
  case NC_DOUBLE: return ((const double *) buf)[i];
  default: *ok = 0; return 0;
  }
}

static void print_index(size_t i, int ndims, const size_t *len)
{
  size_t idx[NC_MAX_VAR_DIMS];

  for (int d = ndims - 1; d >= 0; d--) {
    idx[d] = len[d] ? i % len[d] : 0;
    i      = len[d] ? i / len[d] : 0;
  }
  printf("(");
  for (int d = 0; d < ndims; d++) printf("%s%zu", d ? "," : "", idx[d]);
  printf(")");
}

/* compare variable name of A with B; returns 0 equal, 1 differ, -1 error */
static int compare_var(int nca, int ncb, const char *name, int tol, double rtol, double atol, int *bitwise)
{
  int     va, vb, nda, ndb, da[NC_MAX_VAR_DIMS], db[NC_MAX_VAR_DIMS], st, nofill;
  nc_type ta, tb;
  size_t  len[NC_MAX_VAR_DIMS], n = 1, sz, ndiff = 0, first = 0;
  double  maxabs = 0, maxrel = 0;
  char    fa[64] = {0}, fb[64] = {0};
  void   *a = NULL, *b = NULL;

  *bitwise = 1;
  if (nc_inq_varid(ncb, name, &vb)) {
    printf("variable %s: only in the first file\n", name);
    return 1;
  }
  nc_inq_varid(nca, name, &va);
  if (nc_inq_var(nca, va, NULL, &ta, &nda, da, NULL) || nc_inq_var(ncb, vb, NULL, &tb, &ndb, db, NULL)) return -1;
  if (ta != tb || nda != ndb) {
    printf("variable %s: type or rank differs (type %d rank %d vs type %d rank %d)\n", name, ta, nda, tb, ndb);
    return 1;
  }
  for (int d = 0; d < nda; d++) {
    char   na[NC_MAX_NAME + 1], nb[NC_MAX_NAME + 1];
    size_t lb;

    if (nc_inq_dim(nca, da[d], na, &len[d]) || nc_inq_dim(ncb, db[d], nb, &lb)) return -1;
    if (strcmp(na, nb) || len[d] != lb) {
      printf("variable %s: dimension %d is %s=%zu vs %s=%zu\n", name, d, na, len[d], nb, lb);
      return 1;
    }
    n *= len[d];
  }
  if (nc_inq_type(nca, ta, NULL, &sz)) return -1;
  if (ta > NC_STRING) {
    printf("variable %s: user-defined type %d is not supported\n", name, ta);
    return 1;
  }
  if (n == 0) return 0;
  a = calloc(n, sz);
  b = calloc(n, sz);
  if (!a || !b) {
    fprintf(stderr, "sa_nccompare: out of memory for %s\n", name);
    free(a), free(b);
    return -1;
  }
  if ((st = nc_get_var(nca, va, a)) || (st = nc_get_var(ncb, vb, b))) {
    fprintf(stderr, "sa_nccompare: reading %s: %s\n", name, nc_strerror(st));
    free(a), free(b);
    return -1;
  }
  if (ta != NC_CHAR && ta != NC_STRING && sz <= sizeof(fa)) {
    nc_inq_var_fill(nca, va, &nofill, fa);
    nc_inq_var_fill(ncb, vb, &nofill, fb);
  }
  for (size_t i = 0; i < n; i++) {
    int         same, ok;
    long double x, y, ad, rd, mx;

    if (ta == NC_STRING) {
      const char *s = ((char **) a)[i], *t = ((char **) b)[i];
      same = (!s && !t) || (s && t && !strcmp(s, t));
    } else same = !memcmp((char *) a + i * sz, (char *) b + i * sz, sz);
    if (same) continue;
    *bitwise = 0;
    x        = value(ta, a, i, &ok);
    y        = value(ta, b, i, &ok);
    if (tol && ok) {
      int fill = !memcmp((char *) a + i * sz, fa, sz) && !memcmp((char *) b + i * sz, fb, sz);
      if (fill || (isnan(x) && isnan(y)) || (isinf(x) && x == y)) continue;
    }
    mx = fmaxl(fabsl(x), fabsl(y));
    ad = fabsl(x - y);
    rd = isnan(ad) ? ad : mx > 0 ? ad / mx : 0;
    if (tol && ok && !isnan(ad) && ad <= atol + rtol * mx) continue;
    if (!ndiff++) first = i;
    if (ok && (isnan(ad) || ad > maxabs)) maxabs = isnan(ad) ? INFINITY : (double) ad;
    if (ok && (isnan(rd) || rd > maxrel)) maxrel = isnan(rd) ? INFINITY : (double) rd;
  }
  if (ndiff) {
    int ok;

    printf("variable %s: %zu of %zu entries differ", name, ndiff, n);
    value(ta, a, 0, &ok);
    if (ok) printf(", max abs diff %.6e, max rel diff %.6e", maxabs, maxrel);
    printf(", first at ");
    print_index(first, nda, len);
    if (ok && (ta == NC_FLOAT || ta == NC_DOUBLE))
      printf(": %.17Lg vs %.17Lg", value(ta, a, first, &ok), value(ta, b, first, &ok));
    else if (ok) printf(": %.0Lf vs %.0Lf", value(ta, a, first, &ok), value(ta, b, first, &ok));
    else if (ta == NC_CHAR) printf(": '%c' vs '%c'", ((char *) a)[first], ((char *) b)[first]);
    else if (ta == NC_STRING) {
      const char *x = ((char **) a)[first], *y = ((char **) b)[first];
      printf(": \"%s\" vs \"%s\"", x ? x : "(null)", y ? y : "(null)");
    }
    printf("\n");
  }
  if (ta == NC_STRING) {
    nc_free_string(n, (char **) a);
    nc_free_string(n, (char **) b);
  }
  free(a), free(b);
  return ndiff ? 1 : 0;
}

int main(int argc, char **argv)
{
  const char *fa = NULL, *fb = NULL, *exclude = NULL;
  double      rtol = 0, atol = 0;
  int         tol = 0, nca, ncb, nva, nvb, st, ncompared = 0, ndiffer = 0, allbitwise = 1, err = 0;

  for (int i = 1; i < argc; i++) {
    char *end = NULL;

    if (!strcmp(argv[i], "-rtol") && i + 1 < argc) rtol = strtod(argv[++i], &end), tol = 1;
    else if (!strcmp(argv[i], "-atol") && i + 1 < argc) atol = strtod(argv[++i], &end), tol = 1;
    else if (!strcmp(argv[i], "-exclude") && i + 1 < argc) exclude = argv[++i];
    else if (argv[i][0] != '-' && !fa) fa = argv[i];
    else if (argv[i][0] != '-' && !fb) fb = argv[i];
    else goto usage;
    if (end && (*end || end == argv[i] || !(rtol >= 0) || !(atol >= 0))) goto usage;
  }
  if (!fa || !fb) goto usage;
  if ((st = nc_open(fa, NC_NOWRITE, &nca))) {
    fprintf(stderr, "sa_nccompare: %s: %s\n", fa, nc_strerror(st));
    return 1;
  }
  if ((st = nc_open(fb, NC_NOWRITE, &ncb))) {
    fprintf(stderr, "sa_nccompare: %s: %s\n", fb, nc_strerror(st));
    nc_close(nca);
    return 1;
  }
  nc_inq_nvars(nca, &nva);
  nc_inq_nvars(ncb, &nvb);
  for (int v = 0; v < nva; v++) {
    char name[NC_MAX_NAME + 1];
    int  bitwise, r;

    nc_inq_varname(nca, v, name);
    if (excluded(name, exclude)) continue;
    r = compare_var(nca, ncb, name, tol, rtol, atol, &bitwise);
    ncompared++;
    if (r) ndiffer++;
    if (r < 0) err = 1;
    if (!bitwise) allbitwise = 0;
  }
  for (int v = 0; v < nvb; v++) {
    char name[NC_MAX_NAME + 1];
    int  va;

    nc_inq_varname(ncb, v, name);
    if (excluded(name, exclude) || !nc_inq_varid(nca, name, &va)) continue;
    printf("variable %s: only in the second file\n", name);
    ncompared++, ndiffer++;
  }
  nc_close(nca);
  nc_close(ncb);
  if (err) fprintf(stderr, "sa_nccompare: errors while reading; see above\n");
  if (!ncompared) printf("sa_nccompare: 0 variables compared, nothing checked\n");
  else if (ndiffer) printf("sa_nccompare: %d variables compared, %d differ\n", ncompared, ndiffer);
  else if (allbitwise) printf("sa_nccompare: %d variables compared, identical\n", ncompared);
  else printf("sa_nccompare: %d variables compared, within rtol %g atol %g\n", ncompared, rtol, atol);
  return ndiffer || err || !ncompared ? 1 : 0;

usage:
  fprintf(stderr, "usage: sa_nccompare A.nc B.nc [-rtol R] [-atol A] [-exclude v1,v2,...]\n");
  return 2;
}
