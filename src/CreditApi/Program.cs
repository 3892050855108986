using SmartCity.CreditApi.Cli;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

return await CommandLine.RunAsync(CliRoot.Create(), args, Console.Out, Console.Error, cancellation.Token);
