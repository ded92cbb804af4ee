using Microsoft.CodeAnalysis;

namespace BinaryFormat.Generator;

/// <summary>The compile-time diagnostics, one ID per mistake.</summary>
internal static class Diagnostics
{
    private const string Category = "BinaryFormat";

    public static readonly DiagnosticDescriptor TypeNotPartial = Error("BF0001", "Type must be partial",
        "'{0}' must be declared partial so that the generated reader and writer can be added to it");

    public static readonly DiagnosticDescriptor OverlappingFields = Error("BF0002", "Fields overlap",
        "Field '{0}' (bytes {1}..{2}) overlaps field '{3}' (bytes {4}..{5})");

    public static readonly DiagnosticDescriptor UnsupportedMemberType = Error("BF0003", "Unsupported member type",
        "Member '{0}' has type '{1}', which has no binary encoding; use byte, sbyte, (u)short, (u)int, (u)long, bool, an enum, a [BinaryFormat] type, byte[] with Length, or an [InlineArray] of byte (fields only)");

    public static readonly DiagnosticDescriptor ValueDoesNotFit = Error("BF0004", "Attribute value does not fit the member",
        "{0} value {1} does not fit member '{2}' of type '{3}'");

    public static readonly DiagnosticDescriptor NegativeOffset = Error("BF0005", "Negative offset",
        "Member '{0}' has offset {1}; offsets must be zero or positive");

    public static readonly DiagnosticDescriptor UnknownMember = Error("BF0006", "Referenced member does not exist",
        "{0} on '{1}' names '{2}', which is not a [Field] member of '{3}'");

    public static readonly DiagnosticDescriptor MemberComesLater = Error("BF0007", "Referenced member comes later",
        "{0} on '{1}' names '{2}', which is at offset {3}, not before offset {4}; a rule may only depend on earlier fields");

    public static readonly DiagnosticDescriptor MemberNotWritable = Error("BF0008", "Member is not writable",
        "Member '{0}' must be an instance field that is not readonly, or a property with a set accessor, so that Read can assign it");

    public static readonly DiagnosticDescriptor MissingLength = Error("BF0009", "Byte block without a length",
        "Byte block member '{0}' needs a length: [Length(nameof(Member))], [Length(n)] or [Field(Length = n)] with n greater than zero, or [Length(ToEnd = true)]");

    public static readonly DiagnosticDescriptor SizeTooSmall = Error("BF0010", "Declared size too small",
        "[BinaryFormat(Size = {0})] on '{1}' is smaller than the end of its last field ({2})");

    public static readonly DiagnosticDescriptor RuleNotApplicable = Error("BF0011", "Rule does not apply to this member",
        "{0} cannot be used on member '{1}' of type '{2}'");

    public static readonly DiagnosticDescriptor GenericType = Error("BF0012", "Generic layouts are not supported",
        "'{0}' is generic; a [BinaryFormat] type must not have type parameters");

    public static readonly DiagnosticDescriptor NoParameterlessConstructor = Error("BF0013", "No parameterless constructor",
        "Class '{0}' needs an accessible parameterless constructor so that Read can create it");

    public static readonly DiagnosticDescriptor NameCollision = Error("BF0014", "Member name taken by a generated member",
        "Member '{0}' has the name of a generated member ({1}); rename it");

    public static readonly DiagnosticDescriptor RequiredNonField = Error("BF0015", "Required member that is not a field",
        "Member '{0}' is required but has no [Field], so Read cannot set it; give it a [Field] or drop 'required'");

    public static readonly DiagnosticDescriptor OffsetAfterVariableMember = Error("BF0016", "Explicit offset after a variable-length member",
        "Member '{0}' has a fixed offset, but variable-length member '{1}' comes before it; declare it after '{1}' with [Field] and no offset");

    public static readonly DiagnosticDescriptor LengthMemberNotInteger = Error("BF0017", "Length, count or stride member is not an integer",
        "{0} on '{1}' names a member of type '{2}'; a length, count or stride must be an integer field");

    public static readonly DiagnosticDescriptor MissingLengthSpecification = Error("BF0018", "Variable member without a length",
        "Member '{0}' of type '{1}' needs to know where it ends: {2}");

    public static readonly DiagnosticDescriptor StrideTooSmall = Error("BF0019", "Stride smaller than the element",
        "[Stride({0})] on '{1}' is smaller than its element ({2} bytes)");

    public static readonly DiagnosticDescriptor ConflictingLength = Error("BF0020", "Two lengths for one member",
        "Member '{0}' has both {1} and {2}; give it one");

    public static readonly DiagnosticDescriptor MemberAfterToEnd = Error("BF0021", "Member after one that takes the rest",
        "'{0}' takes every remaining byte ([Length(ToEnd = true)]), so member '{1}' cannot follow it");

    public static readonly DiagnosticDescriptor SizeOnVariableLayout = Error("BF0022", "Size on a variable-length layout",
        "[BinaryFormat(Size = {0})] cannot be used on '{1}': its size varies with member '{2}'; it reports it with GetEncodedSize()");

    public static readonly DiagnosticDescriptor MeasuredTwice = Error("BF0023", "One length for two members",
        "'{0}' already gives the length of '{1}', so it cannot also give that of '{2}'; Write could not fill it in");

    public static readonly DiagnosticDescriptor InvalidLength = Error("BF0024", "Invalid length or count",
        "The length or count of member '{0}' must be a member name, a constant greater than zero, or ToEnd = true (and for arrays, a member or ToEnd)");

    public static readonly DiagnosticDescriptor InvalidCase = Error("BF0025", "Case is not a layout of the member",
        "[Case] layout '{0}' on '{1}' must be a [BinaryFormat] type that converts to '{2}'");

    public static readonly DiagnosticDescriptor DuplicateCase = Error("BF0026", "Case declared twice",
        "Member '{0}' has {1}; each tag and the fallback may appear once");

    public static readonly DiagnosticDescriptor ChecksumRangeReversed = Error("BF0027", "Checksum range ends before it starts",
        "[Checksum] on '{0}' covers '{1}' to '{2}', but '{2}' comes before '{1}'");

    public static readonly DiagnosticDescriptor BitsOutsideMember = Error("BF0028", "Bits outside the member",
        "[Bits] on '{0}' takes bits {1}..{2}, but '{3}' has {4} bits, numbered 0..{5} from the least significant; give a first bit of 0 or more and a count of 1 or more that fit");

    public static readonly DiagnosticDescriptor BitsOverlap = Error("BF0029", "Bitfields overlap",
        "[Bits] on '{0}' takes bits {1}..{2} of '{6}', which overlap bits {4}..{5} taken by '{3}'");

    public static readonly DiagnosticDescriptor BitsTypeTooNarrow = Error("BF0030", "Bitfield type cannot hold its bits",
        "'{0}' of type '{1}' cannot hold {2} bits; use bool for one bit, or an integer or enum type wide enough (a signed type holds one bit less)");

    public static readonly DiagnosticDescriptor BitsNotPartialProperty = Error("BF0031", "Bitfield is not a partial property",
        "[Bits] member '{0}' must be an instance partial property declared with get and set and no body, such as 'public partial {2} {0} {{ get; set; }}', so that it can be generated over the bits of '{1}'");

    public static readonly DiagnosticDescriptor InvalidByteOrderMember = Error("BF0032", "Byte order taken from an unsuitable member",
        "[ByteOrderFrom] on '{0}' names '{1}', which must be an integer or enum [Field] with different Little and Big values, or an [Argument] of type ByteOrder");

    public static readonly DiagnosticDescriptor ArgsMismatch = Error("BF0033", "Arguments do not match the nested layout",
        "[Args] on '{0}' passes {1}, but '{2}' declares {3} [Argument] member(s){4}");

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
}
