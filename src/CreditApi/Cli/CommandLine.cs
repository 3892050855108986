namespace SmartCity.CreditApi.Cli;

/// <summary>Dispatches `smartcity &lt;command&gt; [sub-command] [options]` over the command tree.</summary>
public static class CommandLine
{
    public const int Success = 0;
    public const int NegativeVerdict = 1;
    public const int BadInput = 2;

    public static async Task<int> RunAsync(CliCommand root, IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var command = root;
        var path = root.Name;
        var consumed = 0;
        while (command.IsGroup && consumed < args.Count && !args[consumed].StartsWith('-'))
        {
            var child = command.Children.FirstOrDefault(c => c.Name == args[consumed]);
            if (child is null)
            {
                await error.WriteLineAsync($"{path}: unknown command '{args[consumed]}' (see '{path} --help')").ConfigureAwait(false);
                return BadInput;
            }

            command = child;
            path += " " + child.Name;
            consumed++;
        }

        var rest = args.Skip(consumed).ToArray();
        if (rest.Contains("--help") || rest.Contains("-h") || command.IsGroup)
        {
            await output.WriteAsync(Help(command, path)).ConfigureAwait(false);
            return command.IsGroup && rest.Length > 0 && !rest.Contains("--help") && !rest.Contains("-h") ? BadInput : Success;
        }

        try
        {
            return await command.InvokeAsync(new CliInvocation(path, rest, output, error), cancellationToken).ConfigureAwait(false);
        }
        catch (CliUsageException e)
        {
            await error.WriteLineAsync($"{path}: {e.Message}").ConfigureAwait(false);
            return BadInput;
        }
    }

    public static string Help(CliCommand command, string path)
    {
        var text = new System.Text.StringBuilder();
        text.Append(path).Append(" — ").AppendLine(command.Summary);
        if (command.IsGroup)
        {
            text.AppendLine().AppendLine("Commands:");
            var width = command.Children.Max(c => c.Name.Length);
            foreach (var child in command.Children)
            {
                text.Append("  ").Append(child.Name.PadRight(width + 2)).AppendLine(child.Summary);
            }

            text.AppendLine().Append("Run '").Append(path).AppendLine(" <command> --help' for details.");
        }
        else
        {
            text.AppendLine().Append("Usage: ").Append(path).Append(' ').AppendLine(command.Usage);
        }

        return text.ToString();
    }
}
