#!/usr/bin/env bash
# Sets up hostvisor on a fresh Debian machine with Node 20: the Debian packages the libvirt addon
# builds against (and the test driver it runs on), the npm dependencies from the lockfile, the
# native addon (npm's install script) and the TypeScript build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# The addon and the test driver; systemd-analyze; RabbitMQ for broker mode; and the real hypervisor
# of the end-to-end test (libvirtd, QEMU, qemu-guest-agent, a kernel and busybox for its guest).
# The network helper's tools (iproute2, the DHCP client) and its tests' DHCP server (dnsmasq).
DEBS=(libvirt-dev libvirt0 pkg-config g++ make python3 openssl systemd rabbitmq-server
      libvirt-daemon-system qemu-system-x86 qemu-guest-agent busybox-static linux-image-amd64 cpio kmod xz-utils
      iproute2 util-linux isc-dhcp-client dnsmasq-base)
missing=()
for deb in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "install ok installed" || missing+=("$deb")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The daemon's own unprivileged user, in the groups that reach libvirt and the guests' channels
# (systemd runs hostvisord as it; the network tests run the daemon as it).
if [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null; then
  AS_ROOT=$([ "$(id -u)" -eq 0 ] || echo sudo)
  id hostvisor >/dev/null 2>&1 || $AS_ROOT useradd --system --no-create-home --home-dir /var/lib/hostvisor --shell /usr/sbin/nologin hostvisor
  for group in libvirt kvm libvirt-qemu; do
    if getent group "$group" >/dev/null; then $AS_ROOT usermod -a -G "$group" hostvisor; fi
  done
fi
# Broker mode's tests use RabbitMQ's STOMP plugin (port 61613); they start the broker themselves.
$([ "$(id -u)" -eq 0 ] || echo sudo) rabbitmq-plugins enable --offline rabbitmq_stomp >/dev/null

# Exactly the locked versions (the lockfile is committed as npm writes it, with every platform's
# optional builds), so the set-up leaves the checkout clean. npm's install script builds the addon.
echo "setup: npm ci (builds the libvirt addon)"
npm ci --no-audit --no-fund
echo "setup: compiling TypeScript"
npm run build --silent

# The tests run the daemon as `hostvisor`, from this checkout: it must be able to reach and read
# it. A checkout under a private folder (say /root) gets traverse-only access on the folders above
# it (o+x: no listing) and read access inside; said here, never done silently.
if [ "$(id -u)" -eq 0 ] && id hostvisor >/dev/null 2>&1; then
  dir=$(pwd)
  while [ "$dir" != "/" ]; do
    if ! setpriv --reuid=hostvisor --regid=hostvisor --init-groups test -x "$dir" 2>/dev/null; then
      echo "setup: letting the hostvisor user traverse $dir (chmod o+x)"
      chmod o+x "$dir"
    fi
    dir=$(dirname "$dir")
  done
  if ! setpriv --reuid=hostvisor --regid=hostvisor --init-groups test -r dist/src/main.js; then
    echo "setup: letting the hostvisor user read this checkout (chmod -R o+rX)"
    chmod -R o+rX .
  fi
fi
echo "setup: done"
