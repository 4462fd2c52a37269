using System.CommandLine;
using ReadHistory.Api.V1;

namespace ReadHistory.Cli.Commands;

/// <summary><c>forget</c>: removes a user's whole history.</summary>
internal static class ForgetCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("forget", "Remove the user's whole read history, from the database and every cache");
        var user = CliOptions.User();
        var tenant = CliOptions.Tenant();
        var deadlineMs = CliOptions.DeadlineMs(CliContext.DefaultDeadlineMs);
        command.Options.Add(user);
        command.Options.Add(tenant);
        command.Options.Add(deadlineMs);
        command.SetAction((parse, cancellationToken) => context.RunAsync(parse, deadlineMs, async (client, writer, deadline, token) =>
        {
            var request = new ForgetUserRequest { UserId = parse.GetValue(user), Tenant = parse.GetValue(tenant) ?? string.Empty };
            writer.WriteForget(request, await client.ForgetUserAsync(request, deadline, token).ConfigureAwait(false));
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
