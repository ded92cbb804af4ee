// Records and init accessors on netstandard2.0 need this marker type, which the BCL ships only from .NET 5 on.
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit
    {
    }
}
