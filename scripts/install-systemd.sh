#!/usr/bin/env bash
# Installs hostvisord as a systemd service from this checkout (after scripts/setup.sh, which makes
# the `hostvisor` user): the commands, the daemon's unit (as hostvisor), the privileged helper's
# and the boot restore's units (as root), the tmpfiles entry, and the sample config unless one exists.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
install -d /etc/hostvisor /usr/lib/tmpfiles.d
chmod +x dist/src/main.js dist/src/client/cli.js dist/src/helper/main.js
ln -sf "$root/dist/src/main.js" /usr/bin/hostvisord
ln -sf "$root/dist/src/client/cli.js" /usr/bin/hostvisor-client
ln -sf "$root/dist/src/helper/main.js" /usr/bin/hostvisor-helper
for unit in hostvisord.service hostvisor-helper.service hostvisor-network.service; do
  install -m 0644 "systemd/$unit" "/etc/systemd/system/$unit"
done
install -m 0644 systemd/hostvisor.tmpfiles.conf /usr/lib/tmpfiles.d/hostvisor.conf
[ -e /etc/hostvisor/hostvisor.conf ] || install -m 0640 systemd/hostvisor.conf.sample /etc/hostvisor/hostvisor.conf
echo "installed: systemctl daemon-reload && systemctl enable --now hostvisor-network hostvisor-helper hostvisord"
