using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace ReadHistory.Deploy.Tests;

/// <summary>The Dockerfile's restore layer (no container engine here, so its inputs are checked by reading it).</summary>
public sealed partial class DockerfileTests
{
    [Fact]
    public void The_restore_layer_copies_every_project_and_file_the_server_project_needs_to_restore()
    {
        var copied = RestoreLayerFiles();
        var missing = new List<string>();

        var pending = new Queue<string>(["src/ReadHistory.Server/ReadHistory.Server.csproj"]);
        var seen = new HashSet<string>();
        while (pending.TryDequeue(out var project))
        {
            if (!seen.Add(project))
            {
                continue;
            }

            var directory = Path.GetDirectoryName(project)!;
            var xml = XDocument.Load(Tools.PathOf(project));
            foreach (var element in xml.Descendants().Where(e => e.Name.LocalName is "ProjectReference" or "Import"))
            {
                var reference = (string?)element.Attribute(element.Name.LocalName == "Import" ? "Project" : "Include");
                if (reference is null || reference.Contains('$', StringComparison.Ordinal))
                {
                    continue;
                }

                var path = Path.GetRelativePath(Tools.RepoRoot, Path.GetFullPath(Path.Combine(Tools.RepoRoot, directory, reference))).Replace('\\', '/');
                if (!copied.Contains(path))
                {
                    missing.Add($"{path} (from {project})");
                }

                if (path.EndsWith(".csproj", StringComparison.Ordinal))
                {
                    pending.Enqueue(path);
                }
            }
        }

        Assert.True(missing.Count == 0, "not copied before `dotnet restore`: " + string.Join(", ", missing));
        Assert.Contains("Directory.Build.props", copied);
        Assert.Contains("Directory.Packages.props", copied);
    }

    /// <summary>The repository files the COPY lines before the first `RUN dotnet restore` bring in.</summary>
    private static HashSet<string> RestoreLayerFiles()
    {
        var files = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Tools.PathOf("Dockerfile")))
        {
            if (line.StartsWith("RUN dotnet restore", StringComparison.Ordinal))
            {
                return files;
            }

            var match = CopyLine().Match(line);
            if (match.Success)
            {
                var parts = match.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                foreach (var source in parts[..^1])
                {
                    files.Add(source);
                }
            }
        }

        throw new InvalidOperationException("the Dockerfile has no `RUN dotnet restore` line");
    }

    [GeneratedRegex("^COPY (?!--)(.+)$")]
    private static partial Regex CopyLine();
}
