namespace ReadHistory.Chaos;

/// <summary>Writes a report's JSON and markdown next to each other.</summary>
internal static class ResultsFiles
{
    /// <summary>Writes &lt;prefix&gt;.json and &lt;prefix&gt;.md and returns the prefix (default bench/chaos/results/chaos-&lt;run id&gt; under the repository).</summary>
    public static string Write(ChaosReport report)
    {
        var prefix = report.Options.ResultsPrefix ?? Path.Combine(RepositoryRoot(), "bench", "chaos", "results", "chaos-" + report.RunId);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(prefix))!);
        File.WriteAllText(prefix + ".json", ReportWriter.ToJson(report));
        File.WriteAllText(prefix + ".md", ReportWriter.Markdown(report));
        report.ResultsPrefix = prefix;
        return prefix;
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "ReadHistory.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? Directory.GetCurrentDirectory();
    }
}
