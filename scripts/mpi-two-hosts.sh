#!/usr/bin/env bash
# Data-parallel training across two "hosts" on one machine: two network namespaces joined
# by a veth pair (10.77.0.1 and 10.77.0.2), Open MPI's TCP transport (and its out-of-band
# channel) bound to that subnet, rank 0 in one namespace and rank 1 in the other. The same
# tiny `sequent lm train` then runs as 1 process with the global batch, and the losses of
# every step must agree within 1e-5 relative. The namespaces are torn down on every exit.
#
#   scripts/mpi-two-hosts.sh [path/to/sequent]     (default .build/release/sequent)
#
# Needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN), iproute2 and Open MPI; where namespaces
# cannot be created it says so and exits 0 (skipped), as CI runs it unconditionally.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
sequent="$(realpath "${1:-$root/.build/release/sequent}")"
prefix="seqmpi$$"
ns_a="${prefix}a" ns_b="${prefix}b"
work="$(mktemp -d /tmp/mpi-two-hosts.XXXXXX)"

skip() { echo "mpi-two-hosts: SKIPPED: $*"; exit 0; }
[[ -x "$sequent" ]] || { echo "mpi-two-hosts: $sequent is not built (swift build -c release)" >&2; exit 1; }
command -v mpirun >/dev/null 2>&1 || skip "mpirun is not installed (scripts/bootstrap.sh installs Open MPI)"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) is not installed"

cleanup() {
    ip netns del "$ns_a" 2>/dev/null || true
    ip netns del "$ns_b" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns_a" 2>/dev/null || skip "cannot create network namespaces here (not root, or no CAP_SYS_ADMIN)"
ip netns add "$ns_b" || skip "cannot create a second network namespace"
ip link add "${prefix}x" type veth peer name "${prefix}y" 2>/dev/null || skip "cannot create a veth pair here"
ip link set "${prefix}x" netns "$ns_a"
ip link set "${prefix}y" netns "$ns_b"
ip -n "$ns_a" addr add 10.77.0.1/24 dev "${prefix}x"
ip -n "$ns_b" addr add 10.77.0.2/24 dev "${prefix}y"
for ns in "$ns_a" "$ns_b"; do
    ip -n "$ns" link set lo up
done
ip -n "$ns_a" link set "${prefix}x" up
ip -n "$ns_b" link set "${prefix}y" up

# mpirun (in namespace a) starts the remote daemon through an "rsh" that enters namespace b.
cat >"$work/netns-rsh" <<EOF
#!/usr/bin/env bash
host="\$1"; shift
case "\$host" in
    10.77.0.1) ns="$ns_a" ;;
    *) ns="$ns_b" ;;
esac
echo "mpi-two-hosts: daemon for \$host started in namespace \$ns" >&2
echo "\$host \$ns" >>"$work/launched"
exec ip netns exec "\$ns" /bin/sh -c "\$*"
EOF
chmod +x "$work/netns-rsh"
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' >"$work/hosts"

# A small text and a tiny model without dropout (the equivalence test's settings).
python3 - "$work/corpus.txt" <<'PY' 2>/dev/null || awk 'BEGIN { for (i = 0; i < 80; i++) print "Before we proceed any further, hear me speak. All: Speak, speak." }' >"$work/corpus.txt"
import sys
lines = ["First Citizen:", "Before we proceed any further, hear me speak.", "All:", "Speak, speak.",
         "You are all resolved rather to die than to famish?", "Resolved. resolved."]
open(sys.argv[1], "w").write("\n".join(lines[i % len(lines)] for i in range(80)) + "\n")
PY
train=(lm train --text "$work/corpus.txt" --steps 6 --hidden 16 --layers 2 --embedding 8 --context 16
       --dropout 0 --eval-interval 3 --threads 1 --quiet)

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 PMIX_MCA_gds=hash
echo "mpi-two-hosts: rank 0 in $ns_a (10.77.0.1), rank 1 in $ns_b (10.77.0.2), TCP over the veth pair"
ip netns exec "$ns_a" mpirun -np 2 --hostfile "$work/hosts" --allow-run-as-root --bind-to none \
    --mca plm_rsh_agent "$work/netns-rsh" \
    --mca btl self,tcp --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
    -x PATH \
    "$sequent" "${train[@]}" --out "$work/two-hosts" --batch-size 2
"$sequent" "${train[@]}" --out "$work/one" --batch-size 4
grep -q "$ns_b" "$work/launched" 2>/dev/null || { echo "mpi-two-hosts: FAILED: rank 1 was not started in $ns_b" >&2; exit 1; }

# The losses of every step, compared.
losses() { grep '"loss":' "$1/metrics.jsonl" | sed 's/.*"step":\([0-9]*\).*"loss":\([^,}]*\).*/\1 \2/' | sort -n; }
paste <(losses "$work/two-hosts") <(losses "$work/one") | awk '
    { step = $1; a = $2; b = $4; d = a - b; if (d < 0) d = -d; m = a < 0 ? -a : a;
      printf "step %d: two hosts %.7f, one process %.7f\n", step, a, b; if (d > 1e-5 * m + 1e-7) bad = 1; n++ }
    END { if (n == 0) { print "mpi-two-hosts: no losses logged"; exit 1 }
          if (bad) { print "mpi-two-hosts: FAILED: the losses differ by more than 1e-5 relative"; exit 1 }
          print "mpi-two-hosts: OK: " n " steps agree within 1e-5 relative" }'
