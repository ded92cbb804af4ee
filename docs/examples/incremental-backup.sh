#!/usr/bin/env bash
# The README's incremental-backup walk-through, run as it stands by the test suite (ReadmeExampleTests) in an empty folder.
# QCOW2 says how to start the tool (default: qcow2 on PATH).
set -euo pipefail
qcow2() { ${QCOW2:-qcow2} "$@"; }

# A disk with some data (a VM would have written it).
qemu-img create -q -f qcow2 disk.qcow2 64M
qemu-io -c 'write -P 0x11 0 8M' disk.qcow2 > /dev/null

# Day 0, VM stopped: start tracking changes, then a full backup (which clears the bitmap once it is safely written).
qcow2 bitmap --add disk.qcow2 changes
qcow2 backup --bitmap changes --clear disk.qcow2 full.qcow2
qemu-img convert -O raw disk.qcow2 day0.raw              # the disk as it is now, to compare with later

# ... the VM runs, QEMU records every write in the bitmap ...
qemu-io -c 'write -P 0xab 1M 64k' disk.qcow2 > /dev/null
qemu-img convert -O raw disk.qcow2 day1.raw

# Day 1, VM stopped: only the changed ranges, backed by the full backup.
qcow2 backup --bitmap changes --clear --backing full.qcow2 disk.qcow2 inc1.qcow2

qemu-io -c 'write -P 0xcd 20M 3M' -c 'write -z 0 64k' disk.qcow2 > /dev/null
qemu-img convert -O raw disk.qcow2 day2.raw

# Day 2: the next increment, backed by the previous one.
qcow2 backup --bitmap changes --clear --backing inc1.qcow2 disk.qcow2 inc2.qcow2

# The backups are a plain backing chain: full.qcow2 <- inc1.qcow2 <- inc2.qcow2.
qemu-img info --backing-chain inc2.qcow2 | grep '^image:'

# Restore any day by converting its backup; qemu-img follows the chain.
qemu-img convert -O raw inc2.qcow2 restore2.raw && cmp restore2.raw day2.raw
qemu-img convert -O raw inc1.qcow2 restore1.raw && cmp restore1.raw day1.raw
qemu-img convert -O raw full.qcow2 restore0.raw && cmp restore0.raw day0.raw
echo "restored byte for byte"
