#!/bin/bash
# Starts a single-node SLURM for the 'slurm' tests (TOOLCHAIN.md section 4): munged (unless one
# runs already), slurmctld and slurmd, all state under $SLURM_DIR. Exit 0 when the node is idle;
# exit 77 (ctest SKIP_RETURN_CODE) with the reason on stdout when SLURM cannot start here (not
# root, packages missing, ports taken, daemons failing); the slurm tests then skip visibly.
# usage: SLURM_DIR=<writable dir> slurm-start.sh
set -uo pipefail
: "${SLURM_DIR:?set SLURM_DIR}"
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "SKIP slurm: $*"; rm -f "$SLURM_DIR/up"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "the test daemons run as root (slurmd, slurmctld) and this is uid $(id -u)"
for b in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/munged /usr/bin/sbatch /usr/bin/scontrol; do
  [ -x "$b" ] || skip "$b is missing: install the Debian packages slurm-wlm and munge (scripts/setup.sh does)"
done
"$here/slurm-stop.sh" > /dev/null 2>&1 || true # a previous run of the fixture that was not stopped
mkdir -p "$SLURM_DIR"/{etc,state,spool,log,run}
rm -f "$SLURM_DIR/up"
ctld=${SA_SLURMCTLD_PORT:-6817}
slurmd_port=${SA_SLURMD_PORT:-6818}
for p in "$ctld" "$slurmd_port"; do
  if (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null; then skip "port $p is in use (another SLURM?)"; fi
done
sed -e "s|@SLURM_DIR@|$SLURM_DIR|g" -e "s|@CPUS@|$(getconf _NPROCESSORS_ONLN)|g" -e "s|@CTLD_PORT@|$ctld|g" \
  -e "s|@SLURMD_PORT@|$slurmd_port|g" "$here/slurm.conf.in" > "$SLURM_DIR/etc/slurm.conf"
export SLURM_CONF="$SLURM_DIR/etc/slurm.conf"
/usr/sbin/slurmd -V > /dev/null 2>&1 || skip "slurmd does not run: $(/usr/sbin/slurmd -V 2>&1 | head -1)"
[ -e /usr/lib/x86_64-linux-gnu/slurm-wlm/mpi_pmix.so ] || ls /usr/lib/*/slurm-wlm/mpi_pmix*.so > /dev/null 2>&1 ||
  skip "SLURM's PMIx plugin (mpi_pmix) is missing"
# munge: the key comes with the Debian package; a munged started here is stopped by slurm-stop.sh
if [ ! -s /etc/munge/munge.key ]; then
  /usr/sbin/mungekey --create --force || skip "cannot create /etc/munge/munge.key"
  chown munge:munge /etc/munge/munge.key
  chmod 0600 /etc/munge/munge.key
fi
if ! munge -n 2> /dev/null | unmunge > /dev/null 2>&1; then
  install -d -o munge -g munge -m 0755 /run/munge
  runuser -u munge -- /usr/sbin/munged || skip "munged does not start"
  cp /run/munge/munged.pid "$SLURM_DIR/run/munged.pid"
  for _ in $(seq 1 50); do munge -n 2> /dev/null | unmunge > /dev/null 2>&1 && break; sleep 0.1; done
fi
munge -n 2> /dev/null | unmunge > /dev/null 2>&1 || skip "munge does not work (munge -n | unmunge)"
/usr/sbin/slurmctld -f "$SLURM_CONF" || skip "slurmctld does not start: $(tail -3 "$SLURM_DIR/log/slurmctld.log" 2> /dev/null)"
/usr/sbin/slurmd -f "$SLURM_CONF" -N localhost || skip "slurmd does not start: $(tail -3 "$SLURM_DIR/log/slurmd.log" 2> /dev/null)"
for _ in $(seq 1 150); do
  if sinfo -h -o '%T' 2> /dev/null | grep -q '^idle'; then
    touch "$SLURM_DIR/up"
    echo "slurm up: $(sinfo -h -o '%N %c CPUs %T') (SLURM_CONF=$SLURM_CONF, $(srun --version))"
    exit 0
  fi
  sleep 0.2
done
"$here/slurm-stop.sh"
skip "the node did not become idle: $(sinfo -h 2>&1 | head -2); see $SLURM_DIR/log"
