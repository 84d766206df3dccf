#!/usr/bin/env bash
# Side-by-side comparison of standby and restic (Debian's restic, local repository) on the
# same machine in the same run, plus standby-only scale measurements.
#
#   bash bench/compare/run.sh [compare] [small] [large] [s3] [agent]  (default: compare small)
#
# compare: 1 GiB workspace of 200 files (~5 MiB; half random like weights, half text):
#          full snapshot, no-change snapshot, snapshot after rewriting 1 MiB of one file,
#          restore to an empty directory. Ratios are standby / restic.
# small:   100,000 small files: full snapshot and no-change incremental rates.
# large:   10 GiB workspace: peak RSS of a full snapshot.
# s3:      the compare workspace through a local s3rver: standby snapshot create / restore
#          against rclone copy --transfers 16, up and down, and requests per snapshot.
# agent:   standby-agent over SSH to a local OpenSSH sshd: time to the agent's first event
#          (fresh connection; agent deployed and not), against `ssh HOST true`; restore of the
#          compare workspace through the agent against the same restore run locally.
# Caches are dropped before cold steps when /proc/sys/vm/drop_caches is writable (COLD=0
# disables). Work happens under $BENCH_DIR (default /tmp/standby-bench), removed at the end.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
standby=${STANDBY:-$root/build/standby}
dir=${BENCH_DIR:-/tmp/standby-bench}
cold=${COLD:-1}
sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(compare small)
export RESTIC_PASSWORD=bench-only-password

[ -x "$standby" ] || { echo "build standby first (make build)" >&2; exit 1; }
command -v restic >/dev/null || { echo "restic is missing: bash scripts/setup.sh" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT

drop_caches() {
  sync
  if [ "$cold" = 1 ] && [ -w /proc/sys/vm/drop_caches ]; then echo 3 >/proc/sys/vm/drop_caches; fi
}

# timed NAME CMD...: runs CMD, records wall seconds and peak RSS (KiB) in $dir/times.
timed() {
  local name=$1
  shift
  /usr/bin/time -f "%e %M" -o "$dir/.time" "$@" >"$dir/.out" 2>"$dir/.err" || {
    echo "FAILED: $name" >&2
    cat "$dir/.err" >&2
    exit 1
  }
  read -r secs rss <"$dir/.time"
  printf '%s %s %s\n' "$name" "$secs" "$rss" >>"$dir/times"
  printf '  %-34s %8.2f s %8d MiB\n' "$name" "$secs" $((rss / 1024))
}

secs_of() { awk -v n="$1" '$1 == n {print $2}' "$dir/times"; }
ratio() { awk -v a="$(secs_of "$1")" -v b="$(secs_of "$2")" 'BEGIN {printf "%.3f", (b > 0 ? a / b : 0)}'; }

gen_text() {  # gen_text FILE BYTES: word text
  python3 - "$1" "$2" <<'PY'
import random, sys
words = "the model gradient tensor batch token layer attention loss epoch weight cuda".split()
rng = random.Random(sys.argv[1])
n = int(sys.argv[2]); out = []; size = 0
while size < n:
    w = rng.choice(words) + ("\n" if rng.random() < 0.08 else " ")
    out.append(w); size += len(w)
open(sys.argv[1], "w").write("".join(out)[:n])
PY
}

make_compare_data() {  # make_compare_data DIR: the 1 GiB, 200-file workspace
  local data=$1
  for d in $(seq 0 9); do mkdir -p "$data/dir$d"; done
  for i in $(seq 0 199); do
    local f=$data/dir$((i % 10))/f$(printf %03d "$i")
    local size=$((5 * 1048576 + (i * 1237) % 262144))
    if [ $i -lt 100 ]; then
      head -c "$size" /dev/urandom >"$f.bin"
    elif [ $i -lt 150 ]; then
      gen_text "$f.txt" "$size"
    else
      (set +o pipefail; head -c "$size" /dev/urandom | base64 -w 76 | head -c "$size" >"$f.b64")
    fi
  done 2>/dev/null
}

compare() {
  local data=$dir/data
  echo "== compare: 1 GiB, 200 files, standby vs restic $(restic version | awk '{print $2}')"
  make_compare_data "$data"
  du -sb "$data" | awk '{printf "  workspace: %d bytes\n", $1}'

  restic init -r "$dir/restic" -q
  drop_caches
  timed restic_full restic -r "$dir/restic" backup -q "$data"
  drop_caches
  timed standby_full "$standby" snapshot create --repo "$dir/standby" --instance bench --workspace "$data" --json
  timed restic_nochange restic -r "$dir/restic" backup -q "$data"
  timed standby_nochange "$standby" snapshot create --repo "$dir/standby" --instance bench --workspace "$data" --json
  local target
  target=$(find "$data" -name '*.bin' | sort | head -1)
  dd if=/dev/urandom of="$target" bs=1M count=1 seek=2 conv=notrunc status=none
  timed restic_change1m restic -r "$dir/restic" backup --json "$data"
  local restic_added
  restic_added=$(grep '"message_type":"summary"' "$dir/.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data_added"])')
  timed standby_change1m "$standby" snapshot create --repo "$dir/standby" --instance bench --workspace "$data" --json
  local standby_added
  standby_added=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes_uploaded"])' "$dir/.out")
  drop_caches
  timed restic_restore restic -r "$dir/restic" restore latest --target "$dir/restic-out"
  drop_caches
  timed standby_restore "$standby" restore --repo "$dir/standby" --instance bench --to "$dir/standby-out" --json
  diff -r "$data" "$dir/standby-out" >/dev/null && echo "  standby restore: identical to the workspace (diff -r)"
  echo
  echo "  ratio standby/restic: full $(ratio standby_full restic_full) (target <= 0.25)," \
    "no-change $(ratio standby_nochange restic_nochange) (<= 0.2)," \
    "1 MiB change $(ratio standby_change1m restic_change1m) (<= 0.2)," \
    "restore $(ratio standby_restore restic_restore) (<= 0.5)"
  echo "  stored after the 1 MiB change: standby $standby_added bytes, restic $restic_added bytes (target <= 4 MiB)"
  du -sb "$dir/standby" "$dir/restic" | awk '{printf "  repository size: %s %d bytes\n", $2, $1}'
  rm -rf "$data" "$dir/restic" "$dir/standby" "$dir/restic-out" "$dir/standby-out"
}

small() {
  local data=$dir/small
  echo "== small: 100,000 files of 1-4 KiB in 1,000 directories"
  python3 - "$data" <<'PY'
import os, random, sys
root = sys.argv[1]; rng = random.Random(3)
for d in range(1000):
    p = os.path.join(root, "d%03d" % d); os.makedirs(p)
    for f in range(100):
        with open(os.path.join(p, "f%03d.txt" % f), "wb") as fh:
            fh.write(os.urandom(rng.randint(1024, 4096)))
PY
  drop_caches
  timed small_standby_full "$standby" snapshot create --repo "$dir/standby" --instance small --workspace "$data" --json
  timed small_standby_nochange "$standby" snapshot create --repo "$dir/standby" --instance small --workspace "$data" --json
  restic init -r "$dir/restic" -q
  drop_caches
  timed small_restic_full restic -r "$dir/restic" backup -q "$data"
  timed small_restic_nochange restic -r "$dir/restic" backup -q "$data"
  awk -v f="$(secs_of small_standby_full)" -v n="$(secs_of small_standby_nochange)" \
    'BEGIN {printf "  standby: full %.0f files/s, no-change incremental %.0f files/s\n", 100000 / f, 100000 / n}'
  echo "  ratio standby/restic: full $(ratio small_standby_full small_restic_full), no-change $(ratio small_standby_nochange small_restic_nochange)"
  rm -rf "$data" "$dir/standby" "$dir/restic"
}

large() {
  local data=$dir/large
  echo "== large: 10 GiB workspace (ten 1 GiB files), peak memory of a full snapshot"
  mkdir -p "$data"
  for i in $(seq 0 9); do
    (set +o pipefail; openssl enc -aes-128-ctr -nosalt -pass "pass:bench$i" -pbkdf2 </dev/zero 2>/dev/null |
      head -c 1073741824 >"$data/shard$i.safetensors")
  done
  drop_caches
  timed large_standby_full "$standby" snapshot create --repo "$dir/standby" --instance large --workspace "$data" --json
  echo "  peak RSS $(awk '$1 == "large_standby_full" {printf "%d MiB", $3 / 1024}' "$dir/times") (target <= 256 MiB)"
  rm -rf "$data" "$dir/standby"
}

s3() {
  local data=$dir/s3data port
  echo "== s3: 1 GiB through s3rver on loopback, standby vs rclone copy --transfers 16"
  make_compare_data "$data"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$dir/s3rver"
  node --openssl-legacy-provider "$root/node_modules/s3rver/bin/s3rver.js" -d "$dir/s3rver" \
    -a 127.0.0.1 -p "$port" --silent --configure-bucket bench >/dev/null 2>&1 &
  local s3pid=$!
  for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER STANDBY_S3_ENDPOINT=http://127.0.0.1:$port
  local rc=(env -u AWS_CA_BUNDLE RCLONE_CONFIG_S3_TYPE=s3 RCLONE_CONFIG_S3_PROVIDER=Other
    RCLONE_CONFIG_S3_ENDPOINT=http://127.0.0.1:$port RCLONE_CONFIG_S3_ACCESS_KEY_ID=S3RVER
    RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=S3RVER)
  timed s3_rclone_up "${rc[@]}" rclone copy --transfers 16 "$data" s3:bench/rclone
  timed s3_standby_up "$standby" snapshot create --repo s3://bench/standby --instance bench --workspace "$data" --json
  local requests
  requests=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["store_requests"])' "$dir/.out")
  timed s3_rclone_down "${rc[@]}" rclone copy --transfers 16 s3:bench/rclone "$dir/rclone-down"
  timed s3_standby_down "$standby" restore --repo s3://bench/standby --instance bench --to "$dir/standby-down" --json
  kill "$s3pid"
  diff -r "$data" "$dir/standby-down" >/dev/null && echo "  standby restore from S3: identical to the workspace (diff -r)"
  echo "  ratio standby/rclone: upload $(ratio s3_standby_up s3_rclone_up), download $(ratio s3_standby_down s3_rclone_down) (target <= 1)"
  echo "  requests for the 1 GiB snapshot: $requests"
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY STANDBY_S3_ENDPOINT
  rm -rf "$data" "$dir/s3rver" "$dir/rclone-down" "$dir/standby-down"
}

# start_sshd DIR PORT PUBKEY: an sshd for the current user on 127.0.0.1:PORT, HOME=DIR/home.
start_sshd() {
  local d=$1 port=$2
  mkdir -p "$d/home" /run/sshd 2>/dev/null || mkdir -p "$d/home"
  ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
  echo "$3" >"$d/authorized_keys"
  cat >"$d/sshd_config" <<EOF2
Port $port
ListenAddress 127.0.0.1
HostKey $d/host_key
AuthorizedKeysFile $d/authorized_keys
PidFile $d/sshd.pid
UsePAM no
StrictModes no
PasswordAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp /usr/lib/openssh/sftp-server -d $d/home
SetEnv HOME=$d/home
EOF2
  /usr/sbin/sshd -D -e -f "$d/sshd_config" 2>"$d/sshd.log" &
  echo $! >"$d/pid"
  for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
}

# json_field FILE EXPR: a value from a JSON file, EXPR in Python subscript syntax.
json_field() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(j$2)" "$1"; }

agent() {
  local data=$dir/data port host key user
  echo "== agent: standby-agent over SSH (OpenSSH $(ssh -V 2>&1 | awk '{print $1}') on loopback)"
  export STANDBY_STATE_DIR=$dir/state
  "$standby" ssh-key >"$dir/pubkey"
  key=$dir/state/ssh/id_ed25519
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  start_sshd "$dir/host" "$port" "$(cat "$dir/pubkey")"
  user=$(id -un)
  host="$user@127.0.0.1:$port"
  ls -l "$(dirname "$standby")/standby-agent" | awk '{printf "  agent binary: %d bytes\n", $5}'

  "$standby" health --ssh "$host" --json >"$dir/.out"
  printf '  first job on the host: upload %.0f ms, first event %.0f ms\n' \
    "$(json_field "$dir/.out" "['transport']['upload_ms']")" \
    "$(json_field "$dir/.out" "['transport']['first_event_ms']")"
  : >"$dir/first_events"
  for _ in $(seq 20); do
    "$standby" health --ssh "$host" --json >"$dir/.out"
    json_field "$dir/.out" "['transport']['first_event_ms']" >>"$dir/first_events"
  done
  local ssh_ms
  ssh_ms=$(python3 - "$key" "$port" "$user" <<'PY'
import subprocess, sys, time
key, port, user = sys.argv[1:4]
runs = []
for _ in range(20):
    t = time.monotonic()
    subprocess.run(["ssh", "-i", key, "-p", port, "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                    f"{user}@127.0.0.1", "true"], check=True)
    runs.append((time.monotonic() - t) * 1000)
runs.sort()
print(f"{runs[len(runs)//2]:.0f}")
PY
)
  sort -n "$dir/first_events" | awk -v ssh="$ssh_ms" '{v[NR]=$1} END {
    printf "  fresh connection, agent deployed: first event p50 %.0f ms, p90 %.0f ms (target <= 150);", v[int(NR/2)+1], v[int(NR*0.9)]
    printf " OpenSSH `ssh host true`: p50 %d ms\n", ssh}'

  make_compare_data "$data"
  "$standby" snapshot create --repo "$dir/standby" --instance bench --workspace "$data" --json >/dev/null
  drop_caches
  timed agent_local_restore "$standby" restore --repo "$dir/standby" --instance bench --to "$dir/local-out" --json
  cp "$dir/.out" "$dir/local.json"
  drop_caches
  timed agent_ssh_restore "$standby" restore --ssh "$host" --repo "$dir/standby" --instance bench --to "$dir/ssh-out" --json
  diff -r "$data" "$dir/ssh-out" >/dev/null && echo "  restore through the agent: identical to the workspace (diff -r)"
  local local_ms agent_ms
  local_ms=$(json_field "$dir/local.json" "['duration_ms']")
  agent_ms=$(json_field "$dir/.out" "['duration_ms']")
  awk -v l="$local_ms" -v a="$agent_ms" 'BEGIN {printf "  restore throughput through the agent / local: %.3f (data path: %d ms vs %d ms; target >= 0.9)\n", l / a, a, l}'
  echo "  whole command through the agent / local, connection and start-up included: $(ratio agent_local_restore agent_ssh_restore)"
  kill "$(cat "$dir/host/pid")"
  unset STANDBY_STATE_DIR
  rm -rf "$data" "$dir/standby" "$dir/local-out" "$dir/ssh-out" "$dir/host" "$dir/state"
}

for s in "${sections[@]}"; do "$s"; done
