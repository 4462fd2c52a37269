using System.CommandLine;
using Grpc.Core;
using Grpc.Health.V1;

namespace ReadHistory.Cli.Commands;

/// <summary><c>health</c>: the grpc.health.v1 Check of the server or of one service.</summary>
internal static class HealthCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("health", "Ask whether the server (or one service) is serving; exits 15 (UNAVAILABLE) when it is not");
        var service = new Option<string>("--service")
        {
            Description = "The service to ask about, e.g. readhistory.v1.ReadHistory (default: the whole server)",
            DefaultValueFactory = _ => string.Empty,
        };
        var deadlineMs = CliOptions.DeadlineMs(CliContext.DefaultDeadlineMs);
        command.Options.Add(service);
        command.Options.Add(deadlineMs);
        command.SetAction((parse, cancellationToken) => context.RunAsync(parse, deadlineMs, async (client, writer, deadline, token) =>
        {
            var request = new HealthCheckRequest { Service = parse.GetValue(service) ?? string.Empty };
            var response = await client.CheckHealthAsync(request, deadline, token).ConfigureAwait(false);
            writer.WriteHealth(request, response);
            // Probes and scripts read the exit code: anything but SERVING is a failure.
            return response.Status == HealthCheckResponse.Types.ServingStatus.Serving
                ? ExitCodes.Success
                : context.Fail(StatusCode.Unavailable, $"service '{request.Service}' is {Output.ProtoNames.StatusName(response.Status)}");
        }, cancellationToken));
        return command;
    }
}
