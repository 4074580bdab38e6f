#!/usr/bin/env bash
# Two real libvirt hosts on this one machine, for the migration tests (test/e2e/migration.test.ts):
#
#   scripts/two-hosts.sh [up]   host A is scripts/e2e-env.sh's qemu:///system (started by it, with
#                               the test guest); host B is a second virtlogd + libvirtd in a private
#                               mount namespace with its own /run, /etc/libvirt, /var/lib/libvirt,
#                               /var/cache/libvirt and /var/log/libvirt, listening on
#                               qemu+tcp://127.0.0.1:16510/system (loopback, no auth). Idempotent.
#                               Prints one JSON line: e2e-env.sh's, plus `hostB`.
#   scripts/two-hosts.sh stop   destroys B's domains, stops B's daemons, then e2e-env.sh stop.
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
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_of() { [ -f "$1" ] && cat "$1" || true; }
# A zombie from an earlier namespace can hold the name: only an answering socket counts.
b_answers() { virsh -q -c "$B_URI" version >/dev/null 2>&1; }

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
    if alive "$pid"; then
      kill "$pid"
      for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
      alive "$pid" && kill -9 "$pid"
      log "stopped host B's $name ($pid)"
    fi
    rm -f "$B_DIR/run/$name.pid"
  done
}

if [ "${1:-up}" = stop ]; then
  stop_b
  "$HERE/e2e-env.sh" stop
  exit 0
fi
[ "${1:-up}" = up ] || die "usage: $0 [up|stop]"

A_ENV=$("$HERE/e2e-env.sh" up | tail -n 1)

if ! b_answers; then
  stop_b
  mkdir -p "$B_DIR"/{run,etc,lib,cache,log}
  # B's configuration: A's, with its own identity and a TCP listener on loopback.
  rm -rf "$B_DIR/etc" && cp -a /etc/libvirt "$B_DIR/etc"
  conf=$B_DIR/etc/libvirtd.conf
  sed -i -E '/^\s*(host_uuid|listen_tcp|listen_tls|tcp_port|listen_addr|auth_tcp)\s*=/d' "$conf"
  cat >> "$conf" <<EOF
host_uuid = "$B_HOST_UUID"
listen_tcp = 1
listen_tls = 0
tcp_port = "16510"
listen_addr = "127.0.0.1"
auth_tcp = "none"
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
  "
  for _ in $(seq 100); do b_answers && break; sleep 0.1; done
  b_answers || die "host B ($B_URI) does not answer after starting its libvirtd"
  log "started host B: libvirtd $(pid_of "$B_DIR/run/libvirtd.pid"), $B_URI"
fi

printf '%s\n' "${A_ENV%\}},\"hostB\":{\"uri\":\"$B_URI\",\"libvirtdPid\":$(pid_of "$B_DIR/run/libvirtd.pid"),\"channelsDir\":\"/var/lib/libvirt/qemu/channels\"}}"
