using System.CommandLine;
using ReadHistory.Cli.Commands;

namespace ReadHistory.Cli;

/// <summary>The readhistory-cli command tree and its entry point, callable in-process by tests.</summary>
internal static class CliApplication
{
    /// <summary>Builds the root command with every subcommand.</summary>
    public static RootCommand CreateRootCommand(CliContext context)
    {
        var root = new RootCommand(
            "readhistory-cli: ask and feed a ReadHistory server.\n" +
            "Exit codes: 0 ok, 1 bad usage or input, 2-17 the failed call's gRPC status code + 1 (4 INVALID_ARGUMENT, 5 DEADLINE_EXCEEDED, 15 UNAVAILABLE).");
        root.Options.Add(context.Endpoint);
        root.Options.Add(context.Token);
        root.Options.Add(context.Json);
        root.Subcommands.Add(CheckCommand.Create(context));
        root.Subcommands.Add(FilterCommand.Create(context));
        root.Subcommands.Add(MarkCommand.Create(context));
        root.Subcommands.Add(IngestCommand.Create(context));
        root.Subcommands.Add(ForgetCommand.Create(context));
        root.Subcommands.Add(HealthCommand.Create(context));
        root.Subcommands.Add(ExplainCommand.Create(context));
        root.Subcommands.Add(KeysCommand.Create(context));
        return root;
    }

    /// <summary>Parses <paramref name="args"/> and runs the command; returns the process exit code.</summary>
    public static Task<int> RunAsync(
        string[] args,
        TextWriter output,
        TextWriter error,
        TextReader input,
        Func<Uri, string?, IReadHistoryClient> clientFactory,
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        var context = new CliContext(output, error, input, clientFactory, timeProvider ?? TimeProvider.System);
        var parse = CreateRootCommand(context).Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One "error:" line per problem on stderr, like failed calls; the full help stays behind --help.
            foreach (var problem in parse.Errors)
            {
                error.Write("error: " + problem.Message + "\n");
            }

            var command = parse.CommandResult.Command is RootCommand ? string.Empty : parse.CommandResult.Command.Name + " ";
            error.Write("run 'readhistory-cli " + command + "--help' for usage\n");
            return Task.FromResult(ExitCodes.Usage);
        }

        return parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }
}
