#!/usr/bin/env python3
"""The floor for a metadata walk: read exactly the L2 tables (active and snapshot L1s) and refcount blocks of a qcow2 image
once, in file order, with runs of adjacent clusters merged into reads of up to 4 MiB. Prints the median wall time in
milliseconds of RUNS reads (default 15) after one warm-up that fills the page cache, then the clusters and reads it takes."""
import os
import statistics
import struct
import sys
import time

MAX_RUN = 4 << 20


def table(fd, offset, entries):
    data = os.pread(fd, entries * 8, offset)
    return struct.unpack(f">{len(data) // 8}Q", data)


def metadata_clusters(fd):
    header = os.pread(fd, 104, 0)
    cluster_bits, = struct.unpack_from(">I", header, 20)
    l1_size, l1_offset, rt_offset, rt_clusters, nb_snapshots, snapshots_offset = struct.unpack_from(">IQQIIQ", header, 36)
    cluster_size = 1 << cluster_bits
    l1_tables = [(l1_offset, l1_size)]
    offset = snapshots_offset
    for _ in range(nb_snapshots):
        l1_table_offset, l1_entries, id_size, name_size = struct.unpack(">QIHH", os.pread(fd, 16, offset))
        extra_size, = struct.unpack(">I", os.pread(fd, 4, offset + 36))
        l1_tables.append((l1_table_offset, l1_entries))
        offset += 40 + extra_size + id_size + name_size
        offset = (offset + 7) & ~7
    clusters = set()
    for l1_table_offset, l1_entries in l1_tables:
        for entry in table(fd, l1_table_offset, l1_entries):
            if entry & 0x00FFFFFFFFFFFE00:
                clusters.add(entry & 0x00FFFFFFFFFFFE00)
    for entry in table(fd, rt_offset, rt_clusters * cluster_size // 8):
        if entry & ~0x1FF:
            clusters.add(entry & ~0x1FF)
    return cluster_size, sorted(clusters)


def runs(cluster_size, clusters):
    result = []
    for offset in clusters:
        if result and result[-1][0] + result[-1][1] == offset and result[-1][1] + cluster_size <= MAX_RUN:
            result[-1][1] += cluster_size
        else:
            result.append([offset, cluster_size])
    return result


def main():
    fd = os.open(sys.argv[1], os.O_RDONLY)
    cluster_size, clusters = metadata_clusters(fd)
    reads = runs(cluster_size, clusters)
    buffer = bytearray(MAX_RUN)
    view = memoryview(buffer)
    times = []
    for _ in range(int(os.environ.get("RUNS", "15")) + 1):
        start = time.perf_counter()
        for offset, length in reads:
            os.preadv(fd, [view[:length]], offset)
        times.append(time.perf_counter() - start)
    print(f"{statistics.median(times[1:]) * 1000:.2f} {len(clusters)} {len(reads)}")


main()
