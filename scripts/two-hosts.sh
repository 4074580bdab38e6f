#!/usr/bin/env bash
# Two real libvirt hosts on this one machine, for the migration tests (test/e2e/migration.test.ts,
# test/e2e/two-hosts.test.ts):
#
#   scripts/two-hosts.sh [up]   host A is scripts/e2e-env.sh's qemu:///system (started by it, with
#                               the test guest); host B is a second virtlogd + libvirtd in a private
#                               mount namespace with its own /run, /etc/libvirt, /var/lib/libvirt,
#                               /var/cache/libvirt and /var/log/libvirt, listening on
#                               qemu+tcp://127.0.0.1:16510/system (loopback, no auth), its unix
#                               socket open to the daemon's user as A's. Idempotent.
#                               Prints one JSON line: e2e-env.sh's, plus `hostB`.
#   scripts/two-hosts.sh stop   once every `up` has had its `stop`: destroys B's domains and stops
#                               B's daemons (by the PIDs in B's /run); then e2e-env.sh stop.
#
# State under $E2E_DIR/host-b: B's bind-mounted folders (run, etc, lib, cache, log), its user count
# and lock. B's configuration is a copy of A's /etc/libvirt with its own host_uuid and the TCP
# listener, so its qemu.conf is A's: the same QEMU user, dynamic ownership and security driver. Its
# read-write unix socket is as A's (scripts/e2e-env.sh says why): group libvirt, 0770, no polkit,
# for the daemon that runs as the unprivileged `hostvisor` user inside B's namespace.
#
# Both hosts share the network namespace and every path outside those folders, so the guest's
# kernel, initramfs, disk and console files under the e2e folder are the same files for both (the
# shared storage a live migration assumes). B's libvirtd.conf has its own host_uuid: libvirt
# refuses to migrate to a host with the same one. Anything that must see B's files (its channel
# sockets, its unix socket) runs inside its namespace: nsenter -t <B's libvirtd pid> -m.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
E2E_DIR=${HOSTVISOR_E2E_DIR:-/var/tmp/hostvisor-e2e}
B_DIR=$E2E_DIR/host-b
B_URI=qemu+tcp://127.0.0.1:16510/system
B_HOST_UUID=5e2ed0b0-0000-4000-8000-00000000000b

log() { echo "two-hosts: $*" >&2; }
die() { log "$*"; exit 1; }
pid_of() { [ -f "$1" ] && cat "$1" || true; }
# That process, named so, not yet a zombie (a killed daemon nobody reaps stays one; a stale PID
# file may name a reused PID).
running() {
  local pid=$1 name=$2 stat
  [ -n "$pid" ] && stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $stat == "$pid ($name) "* && $stat != "$pid ($name) Z"* ]]
}
# A zombie from an earlier namespace can hold the name: only an answering socket counts.
b_answers() { virsh -q -c "$B_URI" version >/dev/null 2>&1; }
# B's qemu:///system, as B's daemon reaches it: inside B's namespace, as the daemon's user.
b_answers_daemon_user() {
  local pid
  pid=$(pid_of "$B_DIR/run/libvirtd.pid")
  [ -n "$pid" ] && HOME=/var/lib/hostvisor timeout 10 nsenter -t "$pid" -m \
    setpriv --reuid=hostvisor --regid=hostvisor --init-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- \
    virsh -q -c qemu:///system uri >/dev/null 2>&1
}

stop_b() {
  local pid
  if b_answers; then
    for dom in $(virsh -q -c "$B_URI" list --all --uuid 2>/dev/null); do
      virsh -q -c "$B_URI" destroy "$dom" >/dev/null 2>&1 || true
      virsh -q -c "$B_URI" undefine "$dom" >/dev/null 2>&1 || true
    done
  fi
  for name in libvirtd virtlogd; do
    pid=$(pid_of "$B_DIR/run/$name.pid")
    if running "$pid" "$name"; then
      kill "$pid"
      for _ in $(seq 50); do running "$pid" "$name" || break; sleep 0.1; done
      running "$pid" "$name" && kill -9 "$pid"
      log "stopped host B's $name ($pid)"
    fi
    rm -f "$B_DIR/run/$name.pid"
  done
}

# As e2e-env.sh for host A: each `up` counts a user of B, each `stop` one less, and B stops with
# the last, under a lock of its own (fd 8, kept from every process started here: a daemon holding
# it would hold the lock).
mkdir -p "$B_DIR"
exec 8>"$B_DIR/lock"
flock 8
users() { cat "$B_DIR/users" 2>/dev/null || echo 0; }

if [ "${1:-up}" = stop ]; then
  left=$(( $(users) > 0 ? $(users) - 1 : 0 ))
  echo "$left" > "$B_DIR/users"
  [ "$left" -eq 0 ] && stop_b
  "$HERE/e2e-env.sh" stop 8>&-
  exit 0
fi
[ "${1:-up}" = up ] || die "usage: $0 [up|stop]"
echo $(( $(users) + 1 )) > "$B_DIR/users"

A_ENV=$("$HERE/e2e-env.sh" up 8>&- | tail -n 1)

if ! b_answers || ! b_answers_daemon_user; then
  # Counts left from a B that is gone (a run killed before its stop) are void; a B started with
  # an older configuration (its unix socket closed to the daemon's user) is started again.
  b_answers && log "host B's libvirtd does not let hostvisor in: starting it again"
  echo 1 > "$B_DIR/users"
  stop_b
  mkdir -p "$B_DIR"/{run,etc,lib,cache,log}
  # B's configuration: A's, with its own identity and a TCP listener on loopback.
  rm -rf "$B_DIR/etc" && cp -a /etc/libvirt "$B_DIR/etc"
  conf=$B_DIR/etc/libvirtd.conf
  sed -i -E '/^\s*(host_uuid|listen_tcp|listen_tls|tcp_port|listen_addr|auth_tcp|unix_sock_group|unix_sock_rw_perms|auth_unix_rw)\s*=/d' "$conf"
  cat >> "$conf" <<EOF
host_uuid = "$B_HOST_UUID"
listen_tcp = 1
listen_tls = 0
tcp_port = "16510"
listen_addr = "127.0.0.1"
auth_tcp = "none"
unix_sock_group = "libvirt"
unix_sock_rw_perms = "0770"
auth_unix_rw = "none"
EOF
  unshare -m --propagation private bash -euo pipefail -c "
    mount --bind '$B_DIR/run' /run
    mount --bind '$B_DIR/etc' /etc/libvirt
    mount --bind '$B_DIR/lib' /var/lib/libvirt
    mount --bind '$B_DIR/cache' /var/cache/libvirt
    mount --bind '$B_DIR/log' /var/log/libvirt
    mkdir -p /run/libvirt /var/log/libvirt/qemu /var/lib/libvirt/qemu/channels /var/cache/libvirt/qemu
    virtlogd -d
    libvirtd -d --listen
  " 8>&-
  for _ in $(seq 100); do b_answers && break; sleep 0.1; done
  b_answers || die "host B ($B_URI) does not answer after starting its libvirtd"
  b_answers_daemon_user || die "host B's qemu:///system does not answer the hostvisor user"
  log "started host B: libvirtd $(pid_of "$B_DIR/run/libvirtd.pid"), $B_URI"
fi

printf '%s\n' "${A_ENV%\}},\"hostB\":{\"uri\":\"$B_URI\",\"libvirtdPid\":$(pid_of "$B_DIR/run/libvirtd.pid"),\"channelsDir\":\"/var/lib/libvirt/qemu/channels\"}}"
