namespace ReadHistory.LoadGen.Reporting;

/// <summary>Appends a summary at the end of the "## End to end (load generator)" section of bench/RESULTS.md.</summary>
internal static class ResultsFile
{
    /// <summary>The section heading the summaries go under.</summary>
    public const string Heading = "## End to end (load generator)";

    /// <summary>Returns <paramref name="text"/> with <paramref name="summary"/> at the end of the section (the section is created when missing).</summary>
    public static string Insert(string text, string summary)
    {
        var start = text.IndexOf(Heading, StringComparison.Ordinal);
        if (start < 0)
        {
            return text.TrimEnd() + "\n\n" + Heading + "\n\n" + summary;
        }

        var next = text.IndexOf("\n## ", start + Heading.Length, StringComparison.Ordinal);
        var end = next < 0 ? text.Length : next + 1;
        var section = text[start..end].TrimEnd();
        return text[..start] + section + "\n\n" + summary + (next < 0 ? string.Empty : "\n" + text[end..]);
    }

    /// <summary>Inserts <paramref name="summary"/> into the file at <paramref name="path"/>.</summary>
    public static void Append(string path, string summary) =>
        File.WriteAllText(path, Insert(File.Exists(path) ? File.ReadAllText(path) : "# Benchmark results\n", summary));
}
