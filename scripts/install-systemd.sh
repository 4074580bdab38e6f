#!/usr/bin/env bash
# Installs hostvisord as a systemd service from this checkout (after scripts/setup.sh):
# the command, the unit, its tmpfiles entry, and the sample config unless one exists.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
install -d /etc/hostvisor /usr/lib/tmpfiles.d
chmod +x dist/src/main.js dist/src/client/cli.js
ln -sf "$root/dist/src/main.js" /usr/bin/hostvisord
ln -sf "$root/dist/src/client/cli.js" /usr/bin/hostvisor-client
install -m 0644 systemd/hostvisord.service /etc/systemd/system/hostvisord.service
install -m 0644 systemd/hostvisor.tmpfiles.conf /usr/lib/tmpfiles.d/hostvisor.conf
[ -e /etc/hostvisor/hostvisor.conf ] || install -m 0640 systemd/hostvisor.conf.sample /etc/hostvisor/hostvisor.conf
echo "installed: systemctl daemon-reload && systemctl enable --now hostvisord"
