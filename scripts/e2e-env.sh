#!/usr/bin/env bash
# The real environment of the end-to-end test (test/e2e/real-qemu.test.ts), on a fresh Debian 12
# machine as root without systemd:
#
#   scripts/e2e-env.sh [up]   install the Debian packages (if missing), make the daemon's user (if
#                             missing), start virtlogd and libvirtd (if qemu:///system does not answer
#                             yet; their PIDs are recorded), build the tiny guest (cached); prints the
#                             environment as one JSON line, also written to $E2E_DIR/env.json
#   scripts/e2e-env.sh stop   stop the virtlogd/libvirtd this script started (by recorded PID only),
#                             once every `up` has had its `stop`
#
# The guest: Debian's kernel booted directly (TCG: nested KVM hangs here) with an initramfs under
# 4 MB: busybox-static, qemu-ga with its libraries, the virtio modules, and an /init that runs
# qemu-ga on org.qemu.guest_agent.0 and a small oVirt guest agent (a shell loop) on
# ovirt-guest-agent.0. With hvdirty=N on its command line it also rewrites N MiB of its memory
# over and over (random data, generated once: QEMU sends zero pages as mere flags), for the
# migration's convergence case. Idempotent: the initramfs is rebuilt only when its inputs change.
# Output under E2E_DIR (default /var/tmp/hostvisor-e2e).
#
# The tests run hostvisord as systemd/hostvisord.service does: as its own unprivileged user
# (`hostvisor`, as scripts/setup.sh makes it: a system user in the groups libvirt, kvm and
# libvirt-qemu), without capabilities. What it needs here:
# - libvirtd's read-write socket (/run/libvirt/libvirt-sock): libvirtd runs with
#   $E2E_DIR/libvirtd.conf (/etc/libvirt is left alone), which is /etc/libvirt/libvirtd.conf with
#   the socket given to group libvirt, mode 0770, and no authentication on it. That last is a choice
#   of this test environment: Debian's default there is polkit (whose rule lets group libvirt in),
#   and polkitd does not run here (no D-Bus, no systemd), so polkit would refuse every non-root
#   client. The socket's group and mode are the check instead, the same users get in.
# - the guests' channel sockets under $CHANNELS_DIR: libvirt makes them libvirt-qemu's, mode 0775,
#   and /var/lib/libvirt/qemu is libvirt-qemu's, 0750: group libvirt-qemu reaches and connects.
# `up` checks both as the daemon's user (and that it can read this checkout: dist/, node_modules/,
# the addon's build/), and restarts a libvirtd it started earlier with another configuration (its
# guests keep running; only a libvirtd of this script's is ever restarted).
set -euo pipefail

E2E_DIR=${HOSTVISOR_E2E_DIR:-/var/tmp/hostvisor-e2e}
CHANNELS_DIR=/var/lib/libvirt/qemu/channels
# cpio, kmod (modinfo) and xz-utils come with the kernel's packages or the base system; named anyway.
PACKAGES=(libvirt-daemon-system qemu-system-x86 qemu-guest-agent busybox-static linux-image-amd64 cpio kmod xz-utils)
URI=qemu:///system
DAEMON_USER=hostvisor
LIBVIRTD_CONF=$E2E_DIR/libvirtd.conf

log() { echo "e2e-env: $*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts libvirtd)"

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_of() { [ -f "$1" ] && cat "$1" || true; }

stop_daemon() {
  local name=$1 pid
  pid=$(pid_of "$E2E_DIR/$name.started")
  if alive "$pid"; then
    kill "$pid"
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -9 "$pid"
    log "stopped $name ($pid)"
  fi
  rm -f "$E2E_DIR/$name.started"
}
stop_daemons() { stop_daemon libvirtd; stop_daemon virtlogd; }

# Test files run in parallel and share these daemons: each `up` counts a user, each `stop` one
# less, and the daemons stop with the last. The lock makes both steps whole.
mkdir -p "$E2E_DIR"
exec 9>"$E2E_DIR/lock"
flock 9
users() { cat "$E2E_DIR/users" 2>/dev/null || echo 0; }

if [ "${1:-up}" = stop ]; then
  left=$(( $(users) > 0 ? $(users) - 1 : 0 ))
  echo "$left" > "$E2E_DIR/users"
  [ "$left" -eq 0 ] && stop_daemons
  exit 0
fi
[ "${1:-up}" = up ] || die "usage: $0 [up|stop]"
echo $(( $(users) + 1 )) > "$E2E_DIR/users"

chmod 755 "$E2E_DIR"

# --- packages -----------------------------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Another apt may be running (other work on the machine): wait for its lock.
  apt_install() { apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >&2; }
  if ! apt_install; then
    log "install failed; apt-get update, then once more"
    apt-get -o DPkg::Lock::Timeout=600 update -q >&2
    apt_install
  fi
fi

# --- the daemon's user ---------------------------------------------------------------------------
# As scripts/setup.sh makes it (the groups exist once libvirt's and QEMU's packages are in).
id "$DAEMON_USER" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /var/lib/hostvisor --shell /usr/sbin/nologin "$DAEMON_USER"
for group in libvirt kvm libvirt-qemu; do
  id -nG "$DAEMON_USER" | tr ' ' '\n' | grep -qx "$group" || usermod -a -G "$group" "$DAEMON_USER"
done
# A command as the daemon runs (the tests' setpriv; systemd's User= sets HOME so).
as_daemon_user() {
  HOME=/var/lib/hostvisor setpriv --reuid="$DAEMON_USER" --regid="$DAEMON_USER" --init-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"
}

# --- daemons ------------------------------------------------------------------------------------
mkdir -p /var/log/libvirt/qemu /var/run/libvirt /var/lib/libvirt/qemu "$CHANNELS_DIR"
# libvirtd's configuration (see the top): rewritten each time, read when libvirtd starts.
{
  sed -E '/^[[:space:]]*(unix_sock_group|unix_sock_rw_perms|auth_unix_rw)[[:space:]]*=/d' /etc/libvirt/libvirtd.conf
  cat <<'EOF'

# scripts/e2e-env.sh: the read-write socket for group libvirt (the daemon's user is in it), without
# polkit, which does not run in this test environment.
unix_sock_group = "libvirt"
unix_sock_rw_perms = "0770"
auth_unix_rw = "none"
EOF
} > "$LIBVIRTD_CONF.tmp"
mv "$LIBVIRTD_CONF.tmp" "$LIBVIRTD_CONF"
answers() { timeout 10 virsh -q -c "$URI" uri >/dev/null 2>&1; }
daemon_user_answers() { as_daemon_user timeout 10 virsh -q -c "$URI" uri >/dev/null 2>&1; }
if answers && ! daemon_user_answers; then
  # Started by an earlier `up` with another configuration: once more with this one.
  pid=$(pid_of "$E2E_DIR/libvirtd.started")
  alive "$pid" && [ "$pid" = "$(pid_of /run/libvirtd.pid)" ] ||
    die "$URI answers root but not the $DAEMON_USER user, and its libvirtd is not this script's: let group libvirt on its read-write socket (unix_sock_group, unix_sock_rw_perms, auth_unix_rw or polkit)"
  log "libvirtd ($pid) does not let $DAEMON_USER in: restarting it with $LIBVIRTD_CONF"
  stop_daemon libvirtd
fi
if ! answers; then
  if ! alive "$(pid_of /run/virtlogd.pid)"; then
    rm -f /run/virtlogd.pid
    virtlogd -d 9>&-
    for _ in $(seq 50); do alive "$(pid_of /run/virtlogd.pid)" && break; sleep 0.1; done
    pid_of /run/virtlogd.pid > "$E2E_DIR/virtlogd.started"
    log "started virtlogd ($(cat "$E2E_DIR/virtlogd.started"))"
  fi
  if ! alive "$(pid_of /run/libvirtd.pid)"; then
    rm -f /run/libvirtd.pid
    libvirtd -d --config "$LIBVIRTD_CONF" 9>&-
    for _ in $(seq 100); do alive "$(pid_of /run/libvirtd.pid)" && break; sleep 0.1; done
    pid_of /run/libvirtd.pid > "$E2E_DIR/libvirtd.started"
    log "started libvirtd ($(cat "$E2E_DIR/libvirtd.started"))"
  fi
  for _ in $(seq 100); do answers && break; sleep 0.2; done
  answers || die "$URI does not answer after starting libvirtd"
fi
daemon_user_answers || die "$URI does not answer the $DAEMON_USER user (as: $(id "$DAEMON_USER"))"
as_daemon_user test -x "$CHANNELS_DIR" || die "the $DAEMON_USER user cannot reach $CHANNELS_DIR"
# The tests run the daemon from this checkout as that user: it must read it (a checkout under /root,
# 0700, would not do).
REPO=$(cd "$(dirname "$0")/.." && pwd)
unreadable=$(cd / && as_daemon_user find "$REPO" -maxdepth 0 ! -executable -print 2>&1 || true)
for d in dist node_modules build; do
  [ -n "$unreadable" ] || [ ! -e "$REPO/$d" ] || unreadable=$(cd / && as_daemon_user find "$REPO/$d" \( ! -readable -o -type d ! -executable \) -print -quit 2>&1 || true)
done
[ -z "$unreadable" ] || die "the $DAEMON_USER user cannot read the checkout the daemon runs from: $unreadable"

# --- the guest ----------------------------------------------------------------------------------
KERNEL=$(ls /boot/vmlinuz-* | sort -V | tail -1)
KVER=${KERNEL#/boot/vmlinuz-}
MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_console
  virtio_blk virtio_balloon failover net_failover virtio_net)
QGA=$(command -v qemu-ga || echo /usr/sbin/qemu-ga)
INITRD=$E2E_DIR/initramfs.cpio.xz

# /init of the guest. Per-guest settings come from the kernel command line (hvname=, hvip=,
# hvdirty=).
IFS= read -r -d '' INIT <<'EOF' || true
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run /tmp /dev/virtio-ports
for m in $(cat /etc/modules.order); do insmod /lib/modules/$m.ko; done
for p in /sys/class/virtio-ports/*; do
  n=$(cat "$p/name" 2>/dev/null)
  [ -n "$n" ] && ln -sf "/dev/${p##*/}" "/dev/virtio-ports/$n"
done
NAME=hv-guest
IP=
DIRTY=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    hvname=*) NAME=${arg#hvname=} ;;
    hvip=*) IP=${arg#hvip=} ;;
    hvdirty=*) DIRTY=${arg#hvdirty=} ;;
  esac
done
hostname "$NAME"
ip link set lo up
IFACE=eth0
if [ -e /sys/class/net/$IFACE ]; then
  ip link set $IFACE up
  [ -n "$IP" ] && ip addr add "$IP/24" dev $IFACE
fi
say() { echo "hv-guest: $*" > /dev/console; }
# Real disk I/O for the host's block stats.
[ -b /dev/vda ] && dd if=/dev/vda of=/dev/null bs=4096 count=256 2>/dev/null
qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 -t /run &
say "qemu-ga started"
[ -e /dev/virtio-ports/ovirt-guest-agent.0 ] && /bin/ovirt-agent "$NAME" "$IP" "$IFACE" &
if [ -n "$DIRTY" ]; then
  # Memory that changes faster than a slow migration sends it: $DIRTY MiB (in RAM: the
  # initramfs's root) rewritten as fast as the vCPU copies.
  (
    dd if=/dev/urandom of=/run/dirty-src bs=1M count="$DIRTY" 2>/dev/null
    say "dirtying $DIRTY MiB"
    while :; do dd if=/run/dirty-src of=/run/dirty bs=1M count="$DIRTY" conv=notrunc 2>/dev/null; done
  ) &
fi
say "init done on $(uname -r)"
while :; do
  # Some real guest activity: disk writes and network packets.
  [ -b /dev/vda ] && dd if=/dev/zero of=/dev/vda bs=4096 count=4 seek=1024 conv=fsync 2>/dev/null
  [ -n "$IP" ] && ping -c 1 -W 1 "${IP%.*}.1" >/dev/null 2>&1
  sleep 2
done
EOF

# The oVirt guest agent: one descriptor for read and write (a port opens once); the reader keeps
# reading after end-of-file (no host connected), so it sees what the host sends later.
IFS= read -r -d '' OVIRT_AGENT <<'EOF' || true
#!/bin/sh
NAME=$1 IP=$2 IFACE=$3
PORT=/dev/virtio-ports/ovirt-guest-agent.0
say() { echo "hv-guest: $*" > /dev/console; }
MAC=$(cat /sys/class/net/$IFACE/address 2>/dev/null)
exec 3<> $PORT
send() { echo "$1" >&3; }
free_mib() { while read -r k v u; do [ "$k" = MemFree: ] && echo $((v / 1024)); done < /proc/meminfo; }
heartbeat() { send "{\"__name__\": \"heartbeat\", \"free-ram\": \"$(free_mib)\", \"apiVersion\": 3}"; }
describe() {
  send "{\"__name__\": \"host-name\", \"name\": \"$NAME\"}"
  send "{\"__name__\": \"os-version\", \"version\": \"$(uname -r)\"}"
  if [ -n "$IP" ]; then inet="[\"$IP\"]"; else inet='[]'; fi
  send "{\"__name__\": \"network-interfaces\", \"interfaces\": [{\"name\": \"$IFACE\", \"hw\": \"$MAC\", \"inet\": $inet, \"inet6\": []}]}"
  send "{\"__name__\": \"applications\", \"applications\": [\"busybox-static\", \"qemu-guest-agent\", \"hv-ovirt-agent-1.0\"]}"
  send "{\"__name__\": \"active-user\", \"name\": \"None\"}"
}
(
  while :; do
    if ! IFS= read -r line <&3; then sleep 0.3; continue; fi
    case "$line" in
      *'"__name__": "refresh"'*) say "ovirt-agent: refresh"; heartbeat; describe ;;
      *'"__name__": "lock-screen"'*) say "ovirt-agent: lock-screen"; send '{"__name__": "session-lock"}' ;;
      *'"__name__": "shutdown"'*) say "ovirt-agent: shutdown"; sync; poweroff -f ;;
      *'"__name__": "api-version"'*) ;;
      *) say "ovirt-agent: ignored ${line%%,*}" ;;
    esac
  done
) &
say "ovirt-agent started"
heartbeat
describe
while :; do sleep 2; heartbeat; done
EOF

# qemu-ga's guest-shutdown runs /sbin/shutdown -h -P +0 ...: busybox has none, so this one.
IFS= read -r -d '' SHUTDOWN <<'EOF' || true
#!/bin/sh
echo "hv-guest: shutdown $* (qemu-ga)" > /dev/console
case " $* " in *" -r "*) (sleep 1; reboot -f) & ;; *) (sleep 1; sync; poweroff -f) & ;; esac
exit 0
EOF

OS_RELEASE='PRETTY_NAME="hostvisor e2e guest"
NAME="hostvisor-e2e"
VERSION_ID="1"
ID=hostvisor-e2e
'

module_path() { modinfo -k "$KVER" -n "$1"; }
inputs_key() {
  {
    printf '%s\n' xz-1MiB "$INIT" "$OVIRT_AGENT" "$SHUTDOWN" "$OS_RELEASE" "${MODULES[*]}" "$KVER"
    dpkg-query -W -f='${Version}\n' busybox-static qemu-guest-agent
    sha256sum /bin/busybox "$QGA"
  } | sha256sum | cut -d' ' -f1
}
KEY=$(inputs_key)
if [ -s "$INITRD" ] && [ "$(cat "$INITRD.key" 2>/dev/null)" = "$KEY" ]; then
  log "initramfs up to date ($INITRD)"
else
  log "building $INITRD"
  ROOT=$(mktemp -d "$E2E_DIR/root.XXXXXX")
  trap 'rm -rf "$ROOT"' EXIT
  mkdir -p "$ROOT"/{bin,sbin,etc,proc,sys,dev,run,tmp,lib/modules,var}
  ln -s ../run "$ROOT/var/run"
  cp /bin/busybox "$ROOT/bin/busybox"
  for a in sh mount insmod sleep cat ls ln mkdir echo hostname ip dd ping sync poweroff reboot uname seq; do
    ln -s busybox "$ROOT/bin/$a"
  done
  cp "$QGA" "$ROOT/sbin/qemu-ga"
  for lib in $(ldd "$QGA" | grep -o '/[^ ]*'); do
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
  done
  : > "$ROOT/etc/modules.order"
  for m in "${MODULES[@]}"; do
    src=$(module_path "$m")
    case "$src" in
      *.ko) cp "$src" "$ROOT/lib/modules/$m.ko" ;;
      *.ko.xz) xz -dc "$src" > "$ROOT/lib/modules/$m.ko" ;;
      *.ko.zst) zstd -qdc "$src" > "$ROOT/lib/modules/$m.ko" ;;
      *) die "module $m not found for $KVER" ;;
    esac
    echo "$m" >> "$ROOT/etc/modules.order"
  done
  printf '%s\n' "$INIT" > "$ROOT/init"
  printf '%s\n' "$OVIRT_AGENT" > "$ROOT/bin/ovirt-agent"
  printf '%s\n' "$SHUTDOWN" > "$ROOT/sbin/shutdown"
  printf '%s' "$OS_RELEASE" > "$ROOT/etc/os-release"
  chmod 755 "$ROOT/init" "$ROOT/bin/ovirt-agent" "$ROOT/sbin/shutdown"
  # xz as the kernel's decompressor wants it: CRC32 and a 1 MiB dictionary (xz -9's 64 MiB one
  # makes a 128 MiB guest panic, out of memory, while unpacking). 2.8 MB against gzip's 3.9.
  (cd "$ROOT" && find . | cpio -o -H newc --quiet | xz --check=crc32 --lzma2=preset=9,dict=1MiB) > "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"
  echo "$KEY" > "$INITRD.key"
  rm -rf "$ROOT"
  trap - EXIT
  log "initramfs built: $(stat -c %s "$INITRD") bytes"
fi
size=$(stat -c %s "$INITRD")
[ "$size" -lt $((4 * 1024 * 1024)) ] || die "initramfs is $size bytes, over 4 MB"
chmod 644 "$INITRD"

cat > "$E2E_DIR/env.json.tmp" <<EOF
{"uri":"$URI","dir":"$E2E_DIR","kernel":"$KERNEL","initrd":"$INITRD","initrdBytes":$size,"channelsDir":"$CHANNELS_DIR","emulator":"$(command -v qemu-system-x86_64)","kvm":$([ -e /dev/kvm ] && echo true || echo false)}
EOF
mv "$E2E_DIR/env.json.tmp" "$E2E_DIR/env.json"
cat "$E2E_DIR/env.json"
