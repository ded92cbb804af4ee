using BinaryFormat;

namespace Qcow2;

/// <summary>One extension frame as found in cluster 0, before its type is interpreted.</summary>
internal readonly record struct RawHeaderExtension(uint Magic, long Offset, byte[] Data);
