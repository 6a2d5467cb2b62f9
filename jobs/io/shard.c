/*
  shard.c - append-only shards of finished members (DIR/shards/s<session>_g<group>.sa).

  Each finished member is one record, appended with a single write() and fsync()ed:
    header  : magic "SAREC01\n" (8 bytes), payload length (uint64), CRC-32 of the payload (uint32), 0 (uint32)
    payload : member, reason, diverged_step (int64); final_performance, seconds (double);
              nrec, nobs (int64); records (nrec x nobs doubles);
              optionally (members with probes) nprobe, plen (int64) and the probe rows (nprobe x plen doubles);
              optionally (members with Lyapunov exponents) the probe section (nprobe = plen = 0 without probes),
              then nlyap, lyap_counted (int64) and the exponents (nlyap doubles)
  Native byte order (all ranks of a campaign share an architecture). A kill -9 can leave only a
  torn last record, which the scan detects (short read or CRC mismatch) and ignores: a member is
  finished exactly when its record is complete. A session (one `stabaudit run`) writes its own
  files, so no file is ever rewritten and the number of files grows with groups x sessions.
*/
#include <stabaudit/saio.h>
#include <zlib.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>

static const char SAShardMagic[8] = {'S', 'A', 'R', 'E', 'C', '0', '1', '\n'};

typedef struct {
  char     magic[8];
  uint64_t len;
  uint32_t crc;
  uint32_t pad;
} SAShardHeader;

/*@C
  SAShardAppend - Appends a finished member's result to its group's shard file of this session

  Not Collective (the group's rank 0 calls it)

  Input Parameters:
+ dir     - the campaign directory
. session - the session number
. group   - the group number
- r       - the result

  Level: developer

.seealso: `SAShardScan()`, `SAShardRead()`
@*/
PetscErrorCode SAShardAppend(const char dir[], PetscInt session, PetscInt group, const SAMemberResult *r)
{
  char   path[PETSC_MAX_PATH_LEN];
  size_t n = (size_t) r->nrec * (size_t) r->nobs, plen = 5 * sizeof(int64_t) + 2 * sizeof(double) + n * sizeof(double);
  size_t np = r->nprobe > 0 ? (size_t) r->nprobe * (size_t) r->plen : 0;
  char  *buf;
  SAShardHeader h;
  int64_t       iv[3];
  double        dv[2];
  int64_t       sz[2];
  int           fd;
  ssize_t       w;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SA_IOWrite, 0, 0, 0, 0));
  PetscCall(
    PetscSNPrintf(path, sizeof(path), "%s/shards/s%04" PetscInt_FMT "_g%05" PetscInt_FMT ".sa", dir, session, group));
  if (r->nprobe > 0 || r->nlyap > 0) plen += 2 * sizeof(int64_t) + np * sizeof(double);
  if (r->nlyap > 0) plen += 2 * sizeof(int64_t) + (size_t) r->nlyap * sizeof(double);
  PetscCall(PetscMalloc1(sizeof(h) + plen, &buf));
  memcpy(h.magic, SAShardMagic, 8);
  h.len = plen;
  h.pad = 0;
  iv[0] = r->member;
  iv[1] = r->reason;
  iv[2] = r->diverged_step;
  dv[0] = r->final_performance;
  dv[1] = r->seconds;
  sz[0] = r->nrec;
  sz[1] = r->nobs;
  {
    char *p = buf + sizeof(h);
    memcpy(p, iv, sizeof(iv));
    p += sizeof(iv);
    memcpy(p, dv, sizeof(dv));
    p += sizeof(dv);
    memcpy(p, sz, sizeof(sz));
    p += sizeof(sz);
    if (n) memcpy(p, r->rec, n * sizeof(double));
    p += n * sizeof(double);
    if (r->nprobe > 0 || r->nlyap > 0) { /* probe section (empty when only the Lyapunov section follows) */
      int64_t ps[2] = {r->nprobe > 0 ? r->nprobe : 0, r->nprobe > 0 ? r->plen : 0};

      memcpy(p, ps, sizeof(ps));
      p += sizeof(ps);
      if (np) memcpy(p, r->probe, np * sizeof(double));
      p += np * sizeof(double);
    }
    if (r->nlyap > 0) { /* Lyapunov section */
      int64_t ls[2] = {r->nlyap, r->lyap_counted};

      memcpy(p, ls, sizeof(ls));
      p += sizeof(ls);
      memcpy(p, r->lyap, (size_t) r->nlyap * sizeof(double));
    }
  }
  h.crc = (uint32_t) crc32(0L, (const Bytef *) (buf + sizeof(h)), (uInt) plen);
  memcpy(buf, &h, sizeof(h));
  fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
  PetscCheck(fd >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot open shard %s: %s", path, strerror(errno));
  w = write(fd, buf, sizeof(h) + plen);
  PetscCheck(w == (ssize_t) (sizeof(h) + plen), PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot append to shard %s: %s",
             path, strerror(errno));
  PetscCheck(!fsync(fd), PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot sync shard %s: %s", path, strerror(errno));
  close(fd);
  PetscCall(PetscFree(buf));
  PetscCall(PetscLogEventEnd(SA_IOWrite, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* reads the record at offset; returns PETSC_FALSE if it is torn or corrupt */
static PetscErrorCode SAShardReadAt(FILE *fp, long offset, SAMemberResult *r, PetscBool *ok, long *next)
{
  SAShardHeader h;
  char         *buf = NULL;
  int64_t       iv[3], sz[2], ps[2] = {0, 0}, ls[2] = {0, 0};
  double        dv[2];
  uint64_t      base, pend;

  PetscFunctionBeginUser;
  *ok = PETSC_FALSE;
  if (fseek(fp, offset, SEEK_SET)) PetscFunctionReturn(PETSC_SUCCESS);
  if (fread(&h, sizeof(h), 1, fp) != 1 || memcmp(h.magic, SAShardMagic, 8) ||
      h.len < 5 * sizeof(int64_t) + 2 * sizeof(double) || h.len > ((uint64_t) 1 << 36))
    PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscMalloc1(h.len, &buf));
  if (fread(buf, 1, h.len, fp) != h.len || (uint32_t) crc32(0L, (const Bytef *) buf, (uInt) h.len) != h.crc) {
    PetscCall(PetscFree(buf));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  memcpy(iv, buf, sizeof(iv));
  memcpy(dv, buf + sizeof(iv), sizeof(dv));
  memcpy(sz, buf + sizeof(iv) + sizeof(dv), sizeof(sz));
  base = (uint64_t) (5 * sizeof(int64_t) + 2 * sizeof(double)) + (uint64_t) (sz[0] * sz[1]) * sizeof(double);
  if (h.len >= base + 2 * sizeof(int64_t)) memcpy(ps, buf + base, sizeof(ps)); /* the optional probe section */
  pend = base + 2 * sizeof(int64_t) + (uint64_t) (ps[0] * ps[1]) * sizeof(double);
  if (h.len >= pend + 2 * sizeof(int64_t)) memcpy(ls, buf + pend, sizeof(ls)); /* then the optional Lyapunov one */
  if (base != h.len && (h.len < base + 2 * sizeof(int64_t) || ps[0] < 0 || ps[1] < 0 ||
                        (pend != h.len && (ls[0] <= 0 || ls[1] < 0 ||
                                           pend + 2 * sizeof(int64_t) + (uint64_t) ls[0] * sizeof(double) != h.len)))) {
    PetscCall(PetscFree(buf));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  r->member            = (PetscInt) iv[0];
  r->reason            = (SAConvergedReason) iv[1];
  r->diverged_step     = (PetscInt) iv[2];
  r->final_performance = dv[0];
  r->seconds           = dv[1];
  r->nrec              = (PetscInt) sz[0];
  r->nobs              = (PetscInt) sz[1];
  r->rec               = NULL;
  r->nprobe            = base == h.len ? 0 : (PetscInt) ps[0];
  r->plen              = base == h.len ? 0 : (PetscInt) ps[1];
  r->probe             = NULL;
  r->nlyap             = base == h.len || pend == h.len ? 0 : (PetscInt) ls[0];
  r->lyap_counted      = r->nlyap ? (PetscInt) ls[1] : 0;
  r->lyap              = NULL;
  if (r->nlyap > 0) {
    PetscCall(PetscMalloc1(r->nlyap, &r->lyap));
    memcpy(r->lyap, buf + pend + 2 * sizeof(int64_t), (size_t) r->nlyap * sizeof(double));
  }
  if (r->nprobe * r->plen > 0) {
    PetscCall(PetscMalloc1(r->nprobe * r->plen, &r->probe));
    memcpy(r->probe, buf + base + 2 * sizeof(int64_t), (size_t) (r->nprobe * r->plen) * sizeof(double));
  }
  if (sz[0] * sz[1] > 0) {
    PetscCall(PetscMalloc1(sz[0] * sz[1], &r->rec));
    memcpy(r->rec, buf + 5 * sizeof(int64_t) + 2 * sizeof(double), (size_t) (sz[0] * sz[1]) * sizeof(double));
  }
  PetscCall(PetscFree(buf));
  *ok   = PETSC_TRUE;
  *next = offset + (long) sizeof(h) + (long) h.len;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int SAShardNameCmp(const void *a, const void *b) { return strcmp(*(char *const *) a, *(char *const *) b); }

/*@C
  SAShardScan - Finds every complete member record in DIR/shards/

  Collective (rank 0 reads, the index is broadcast)

  Input Parameters:
+ comm     - the communicator
. dir      - the campaign directory
. nmembers - members of the campaign
. nrec     - expected recorded steps per member
- nobs     - expected observables

  Output Parameter:
. idx - the index; a member's first complete record wins (re-runs give identical records)

  Notes:
  A record whose shape does not match the campaign is an error (the directory belongs to another deck).

  Level: developer

.seealso: `SAShardAppend()`, `SAShardRead()`
@*/
PetscErrorCode SAShardScan(MPI_Comm comm, const char dir[], PetscInt nmembers, PetscInt nrec, PetscInt nobs,
                           SAShardIndex *idx)
{
  PetscMPIInt rank;
  char        sdir[PETSC_MAX_PATH_LEN], *names = NULL;
  PetscInt    nf = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SA_IORead, 0, 0, 0, 0));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscMemzero(idx, sizeof(*idx)));
  idx->nmembers = nmembers;
  PetscCall(PetscMalloc1(nmembers, &idx->file));
  PetscCall(PetscMalloc1(nmembers, &idx->offset));
  for (PetscInt m = 0; m < nmembers; m++) idx->file[m] = -1, idx->offset[m] = 0;
  PetscCall(PetscSNPrintf(sdir, sizeof(sdir), "%s/shards", dir));
  if (rank == 0) {
    DIR           *d = opendir(sdir);
    struct dirent *e;
    char         **list = NULL;
    PetscInt       cap  = 0;

    while (d && (e = readdir(d))) {
      size_t l = strlen(e->d_name);
      if (l < 4 || strcmp(e->d_name + l - 3, ".sa")) continue;
      if (nf == cap) {
        cap = cap ? 2 * cap : 16;
        PetscCall(PetscRealloc(sizeof(char *) * cap, &list));
      }
      PetscCall(PetscStrallocpy(e->d_name, &list[nf++]));
    }
    if (d) closedir(d);
    if (nf) qsort(list, (size_t) nf, sizeof(char *), SAShardNameCmp);
    PetscCall(PetscCalloc1((nf ? nf : 1) * PETSC_MAX_PATH_LEN, &names));
    for (PetscInt f = 0; f < nf; f++) {
      FILE          *fp;
      long           off = 0, next = 0;
      PetscBool      ok = PETSC_TRUE;
      SAMemberResult r;
      int            sess = 0;

      PetscCall(PetscSNPrintf(names + f * PETSC_MAX_PATH_LEN, PETSC_MAX_PATH_LEN, "%s/%s", sdir, list[f]));
      if (sscanf(list[f], "s%d_", &sess) == 1) idx->maxsession = PetscMax(idx->maxsession, (PetscInt) sess);
      fp = fopen(names + f * PETSC_MAX_PATH_LEN, "rb");
      PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot read shard %s: %s", names + f * PETSC_MAX_PATH_LEN,
                 strerror(errno));
      while (ok) {
        PetscCall(SAShardReadAt(fp, off, &r, &ok, &next));
        if (!ok) break;
        PetscCheck(r.member >= 0 && r.member < nmembers && r.nrec == nrec && r.nobs == nobs, PETSC_COMM_SELF,
                   PETSC_ERR_FILE_UNEXPECTED,
                   "Shard %s holds member %" PetscInt_FMT " with %" PetscInt_FMT "x%" PetscInt_FMT
                   " records; this campaign has %" PetscInt_FMT " members with %" PetscInt_FMT "x%" PetscInt_FMT
                   ": the directory belongs to another deck",
                   names + f * PETSC_MAX_PATH_LEN, r.member, r.nrec, r.nobs, nmembers, nrec, nobs);
        if (idx->file[r.member] < 0) {
          idx->file[r.member]   = f;
          idx->offset[r.member] = off;
          idx->nfound++;
        }
        PetscCall(SAMemberResultDestroy(&r));
        off = next;
      }
      fclose(fp);
      PetscCall(PetscFree(list[f]));
    }
    PetscCall(PetscFree(list));
  }
  PetscCallMPI(MPI_Bcast(&nf, 1, MPIU_INT, 0, comm));
  if (rank) PetscCall(PetscCalloc1((nf ? nf : 1) * PETSC_MAX_PATH_LEN, &names));
  PetscCallMPI(MPI_Bcast(names, (PetscMPIInt) (nf * PETSC_MAX_PATH_LEN), MPI_CHAR, 0, comm));
  PetscCallMPI(MPI_Bcast(idx->file, (PetscMPIInt) nmembers, MPIU_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(idx->offset, (PetscMPIInt) nmembers, MPIU_INT64, 0, comm));
  PetscCallMPI(MPI_Bcast(&idx->nfound, 1, MPIU_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(&idx->maxsession, 1, MPIU_INT, 0, comm));
  idx->nfiles = nf;
  PetscCall(PetscMalloc1(nf + 1, &idx->files));
  for (PetscInt f = 0; f < nf; f++) PetscCall(PetscStrallocpy(names + f * PETSC_MAX_PATH_LEN, &idx->files[f]));
  idx->files[nf] = NULL;
  PetscCall(PetscFree(names));
  PetscCall(PetscLogEventEnd(SA_IORead, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAShardRead - Reads the record of a finished member

  Not Collective

  Input Parameters:
+ idx - the index from `SAShardScan()`
- m   - the member id (must be finished)

  Output Parameter:
. r - the result; free with `SAMemberResultDestroy()`

  Level: developer

.seealso: `SAShardScan()`
@*/
PetscErrorCode SAShardRead(const SAShardIndex *idx, PetscInt m, SAMemberResult *r)
{
  FILE     *fp;
  PetscBool ok;
  long      next;

  PetscFunctionBeginUser;
  PetscCheck(m >= 0 && m < idx->nmembers && idx->file[m] >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "Member %" PetscInt_FMT " has no record", m);
  fp = fopen(idx->files[idx->file[m]], "rb");
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot read shard %s: %s", idx->files[idx->file[m]],
             strerror(errno));
  PetscCall(SAShardReadAt(fp, (long) idx->offset[m], r, &ok, &next));
  fclose(fp);
  PetscCheck(ok && r->member == m, PETSC_COMM_SELF, PETSC_ERR_FILE_READ,
             "Shard %s changed under us (member %" PetscInt_FMT ")", idx->files[idx->file[m]], m);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAShardIndexDestroy - Frees a shard index

  Not Collective

  Input Parameter:
. idx - the index

  Level: developer

.seealso: `SAShardScan()`
@*/
PetscErrorCode SAShardIndexDestroy(SAShardIndex *idx)
{
  PetscFunctionBeginUser;
  for (PetscInt f = 0; f < idx->nfiles; f++) PetscCall(PetscFree(idx->files[f]));
  PetscCall(PetscFree(idx->files));
  PetscCall(PetscFree(idx->file));
  PetscCall(PetscFree(idx->offset));
  PetscCall(PetscMemzero(idx, sizeof(*idx)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAMemberResultDestroy - Frees the records of a result

  Not Collective

  Input Parameter:
. r - the result

  Level: developer

.seealso: `SAShardRead()`
@*/
PetscErrorCode SAMemberResultDestroy(SAMemberResult *r)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(r->rec));
  PetscCall(PetscFree(r->probe));
  PetscCall(PetscFree(r->lyap));
  PetscFunctionReturn(PETSC_SUCCESS);
}
