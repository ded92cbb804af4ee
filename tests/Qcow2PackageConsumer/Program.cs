using Qcow2;

// The example of src/Qcow2.Format/README.md, run against the packed Qcow2.Format package by PackageConsumerTests.
var path = Path.Combine(args.Length > 0 ? args[0] : ".", "disk.qcow2");

using (var image = Qcow2Image.Create(path, 64L << 20, new Qcow2CreateOptions { ClusterSize = 65536 }))
{
    image.AddBitmap("backup", enabled: true);
    image.Resize(128L << 20);
}

using (var image = Qcow2Image.Open(path))
{
    Console.WriteLine($"version={image.Version} size={image.VirtualSize} cluster={image.ClusterSize} features={image.IncompatibleFeatures}");
    foreach (var bitmap in image.Bitmaps)
        Console.WriteLine($"bitmap {bitmap.Name} granularity={bitmap.Granularity} enabled={bitmap.Enabled}");
    var check = image.Check();
    Console.WriteLine($"corruptions={check.Corruptions} leaks={check.Leaks}");
}

try
{
    using var image = Qcow2Image.Open(path, new Qcow2OpenOptions { Writable = true });
    image.Resize(64L << 20);
}
catch (ArgumentException e)
{
    Console.WriteLine($"refused: {e.ParamName}");
}
