using Microsoft.CodeAnalysis.Text;

namespace BinaryFormat.Generator.Tests.Infrastructure;

/// <summary>
/// Roslyn-testing style markup: <c>{|BF0001:Name|}</c> marks the span where diagnostic BF0001 is expected.
/// </summary>
public static class Markup
{
    public static (string Source, List<(string Id, TextSpan Span)> Expected) Parse(string markup)
    {
        var source = new System.Text.StringBuilder();
        var expected = new List<(string, TextSpan)>();
        int i = 0;
        while (i < markup.Length)
        {
            int open = markup.IndexOf("{|", i, StringComparison.Ordinal);
            if (open < 0)
            {
                source.Append(markup, i, markup.Length - i);
                break;
            }
            source.Append(markup, i, open - i);
            int colon = markup.IndexOf(':', open);
            int close = markup.IndexOf("|}", colon, StringComparison.Ordinal);
            if (colon < 0 || close < 0)
                throw new FormatException("unterminated {|ID:text|} markup");
            var id = markup.Substring(open + 2, colon - open - 2);
            var text = markup.Substring(colon + 1, close - colon - 1);
            expected.Add((id, new TextSpan(source.Length, text.Length)));
            source.Append(text);
            i = close + 2;
        }
        return (source.ToString(), expected);
    }
}
