#!/usr/bin/python3
"""Baseline for bench/libvirt-stats.ts: the same per-domain stats loop through python3-libvirt
(Debian's C binding). Run with Debian's /usr/bin/python3, which has the libvirt module.

usage: libvirt_stats.py URI DOMAINS_JSON ROUNDS
DOMAINS_JSON holds [{"uuid", "disks": [...], "nics": [...]}]. Prints one JSON line:
{"rounds_ms": [...], "domains": N}.
"""
import json
import sys
import time

import libvirt


def sample_all(conn, domains):
    samples = {}
    for d in domains:
        dom = conn.lookupByUUIDString(d["uuid"])
        info = dom.info()
        active = dom.ID() != -1  # as the addon does: the id comes with the lookup
        block, interfaces, memory = {}, {}, None
        if active:
            for disk in d["disks"]:
                block[disk] = dom.blockStats(disk)
            for nic in d["nics"]:
                interfaces[nic] = dom.interfaceStats(nic)
            memory = dom.memoryStats()
        samples[d["uuid"]] = (info, active, block, interfaces, memory)
    return samples


def main():
    uri, domains_file, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(domains_file) as f:
        domains = json.load(f)
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    conn = libvirt.open(uri)
    sample_all(conn, domains)  # warm-up, as the Node side does
    rounds_ms = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        samples = sample_all(conn, domains)
        rounds_ms.append((time.perf_counter() - t0) * 1000)
        assert len(samples) == len(domains)
    conn.close()
    print(json.dumps({"rounds_ms": rounds_ms, "domains": len(domains)}))


if __name__ == "__main__":
    main()
