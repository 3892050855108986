using System.Reflection;

namespace SmartCity.CreditApi.Cli;

internal static class VersionCommand
{
    public static string ProductVersion { get; } =
        typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static CliCommand Create() => CliCommand.Leaf("version", "Print the version of this build", "", async (invocation, _) =>
    {
        invocation.RejectUnknown();
        await invocation.Output.WriteLineAsync(ProductVersion).ConfigureAwait(false);
        return CommandLine.Success;
    });
}
