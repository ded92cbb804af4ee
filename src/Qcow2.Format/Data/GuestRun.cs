namespace Qcow2;

/// <summary>
/// A run of guest bytes that read the same way: <see cref="Length"/> bytes of one <see cref="Type"/>. For data, preallocated
/// zeros and unallocated subclusters of an allocated cluster <see cref="HostOffset"/> is the host byte of the run's first guest byte (in the image or the external data file);
/// for a compressed cluster <see cref="Entry"/> is its L2 entry and the run never leaves the cluster.
/// </summary>
internal readonly record struct GuestRun(SubclusterType Type, long Length, long HostOffset, L2Entry Entry);
