using ReadHistory.Server.Hosting;

namespace ReadHistory.Server;

/// <summary>The readhistory executable: <c>readhistory [migrate] [--ReadHistory:Key=value ...]</c>.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args is ["--help" or "-h", ..])
        {
            Console.WriteLine("usage: readhistory [migrate] [--ReadHistory:Key=value ...]");
            Console.WriteLine("  (no command)  serve the roles named by ReadHistory:Roles (all, or proxy,cache,cdc)");
            Console.WriteLine("  migrate       create or upgrade the database schema, then exit");
            Console.WriteLine("Configuration: appsettings.json beside the executable, ReadHistory__Key environment variables, --ReadHistory:Key=value flags.");
            return 0;
        }

        var command = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "serve";
        var rest = command == "serve" ? args : args[1..];
        return command switch
        {
            "serve" => await ServerHost.RunAsync(rest).ConfigureAwait(false),
            "migrate" => await MigrateCommand.RunAsync(rest).ConfigureAwait(false),
            _ => Usage(command),
        };
    }

    private static int Usage(string command)
    {
        Console.Error.WriteLine($"error: unknown command '{command}' (use migrate, or no command to serve; --help for more)");
        return 2;
    }
}
