using ReadHistory.Cli;

return await CliApplication.RunAsync(args, Console.Out, Console.Error, Console.In, RpcReadHistoryClient.Create).ConfigureAwait(false);
