namespace SmartCity.CreditApi.Cli;

/// <summary>
/// The arguments of one leaf command, parsed as `--name value` options, `--flag` switches and positionals,
/// with the output writers. Reading an option that is missing or malformed throws <see cref="CliUsageException"/>,
/// which the dispatcher prints as one line on stderr with exit code 2.
/// </summary>
public sealed class CliInvocation
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly List<string> _positionals = [];

    public CliInvocation(string commandPath, IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        CommandPath = commandPath;
        Output = output;
        Error = error;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2)
            {
                var eq = arg.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    _options[arg[2..eq]] = arg[(eq + 1)..];
                }
                else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    _options[arg[2..]] = args[++i];
                }
                else
                {
                    _options[arg[2..]] = null;
                }
            }
            else
            {
                _positionals.Add(arg);
            }
        }
    }

    public string CommandPath { get; }

    public TextWriter Output { get; }

    public TextWriter Error { get; }

    public IReadOnlyList<string> Positionals => _positionals;

    public bool Has(string name) => _options.ContainsKey(name);

    public string? Optional(string name)
        => _options.TryGetValue(name, out var value) ? value ?? throw new CliUsageException($"--{name} needs a value") : null;

    public string Required(string name)
        => Optional(name) ?? throw new CliUsageException($"missing --{name}");

    public int OptionalInt(string name, int defaultValue)
    {
        var text = Optional(name);
        if (text is null)
        {
            return defaultValue;
        }

        return int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new CliUsageException($"--{name} must be an integer, got '{text}'");
    }

    /// <summary>Rejects options the command does not know, so a typo is an error rather than silently ignored.</summary>
    public void RejectUnknown(params string[] known)
    {
        foreach (var name in _options.Keys)
        {
            if (Array.IndexOf(known, name) < 0)
            {
                throw new CliUsageException($"unknown option --{name}");
            }
        }
    }
}

/// <summary>Bad usage or bad input: printed as one line on stderr, exit code 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);
