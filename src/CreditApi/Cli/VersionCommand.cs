using System.CommandLine;
using SmartCity.CreditApi.Node;

namespace SmartCity.CreditApi.Cli;

/// <summary>`smartcity version` (the same as <c>smartcity --version</c>).</summary>
internal sealed class VersionCommand : ICliCommandGroup
{
    public Command Create() => new Command("version", "Print the version of this build").Handles(async (context, _) =>
    {
        await context.Output.WriteLineAsync(ProductVersion.Current).ConfigureAwait(false);
        return ExitCodes.Success;
    });
}
