using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ReadHistory.Deploy.Tests;

/// <summary>Finds the repository and runs the external tools the checks need (kubectl, promtool, python3).</summary>
internal static class Tools
{
    public const string Kubectl = "/usr/bin/kubectl";
    public const string Promtool = "/usr/bin/promtool";
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string> Root = new(FindRoot);

    public static string RepoRoot => Root.Value;

    public static string PathOf(params string[] parts) => Path.Combine([RepoRoot, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ReadHistory.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("ReadHistory.sln not found above " + AppContext.BaseDirectory);
    }

    public static void Require(string tool, string package)
    {
        if (!File.Exists(tool))
        {
            throw new InvalidOperationException($"{tool} is missing: install {package} (scripts/install-deps.sh).");
        }
    }

    public static (int ExitCode, string StdOut, string StdErr) Run(string file, IEnumerable<string> args, string? stdin = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepoRoot,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }

        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException(file + " did not finish in 2 minutes");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Converts a YAML stream (several documents) into a JSON array with python3-yaml (safe_load_all).</summary>
    public static JsonArray YamlToJson(string yaml)
    {
        Require(Python, "python3-yaml");
        const string script = "import sys, json, yaml\njson.dump([d for d in yaml.safe_load_all(sys.stdin) if d is not None], sys.stdout)";
        var (code, stdout, stderr) = Run(Python, ["-c", script], yaml);
        if (code != 0)
        {
            throw new InvalidOperationException("YAML to JSON failed: " + stderr);
        }

        return JsonNode.Parse(stdout)?.AsArray() ?? throw new InvalidOperationException("no documents");
    }

    /// <summary>Renders an overlay with <c>kubectl kustomize</c> and returns its objects.</summary>
    public static JsonArray RenderOverlay(string overlay)
    {
        Require(Kubectl, "kubectl");
        var (code, stdout, stderr) = Run(Kubectl, ["kustomize", PathOf("k8s", "overlays", overlay)]);
        if (code != 0)
        {
            throw new InvalidOperationException($"kubectl kustomize k8s/overlays/{overlay} failed: {stderr}");
        }

        return YamlToJson(stdout);
    }
}
