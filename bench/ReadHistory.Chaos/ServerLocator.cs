namespace ReadHistory.Chaos;

/// <summary>Finds src/ReadHistory.Server's readhistory.dll of the configuration and TFM this code was built with.</summary>
internal static class ServerLocator
{
    /// <summary>src/ReadHistory.Server/bin/{configuration}/{tfm}/readhistory.dll under the repository holding this build.</summary>
    public static string ServerDll()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var tfm = here.Name;
        var configuration = here.Parent!.Name;
        var root = here;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ReadHistory.sln")))
        {
            root = root.Parent;
        }

        var dll = Path.Combine(root?.FullName ?? throw new InvalidOperationException("ReadHistory.sln not found above " + here.FullName),
            "src", "ReadHistory.Server", "bin", configuration, tfm, "readhistory.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("build src/ReadHistory.Server (" + configuration + ") first", dll);
    }
}
