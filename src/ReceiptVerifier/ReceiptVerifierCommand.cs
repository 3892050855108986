using System.Text;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Receipts;

namespace SmartCity.ReceiptCheck;

/// <summary>
/// <c>smartcity-receipt verify --genesis GENESIS.json (--file RECEIPT.json)… [--dir DIR]</c>: the offline receipt check
/// of <c>smartcity receipt verify</c> (same lines, same exit codes: 0 VALID, 1 INVALID, 2 bad input with one stderr
/// line), without the node host, so it starts in milliseconds when published with Native AOT. One <c>--file</c>: the
/// full report; several, or <c>--dir</c> (every <c>*.json</c>, not recursive): one line per receipt, checked across the
/// cores, and a count.
/// </summary>
public static class ReceiptVerifierCommand
{
    private const string Usage = "usage: smartcity-receipt verify --genesis GENESIS.json (--file RECEIPT.json)... [--dir DIR]";
    private const int Valid = 0, Invalid = 1, BadInput = 2;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            return Verify(args, output);
        }
        catch (UsageException e)
        {
            error.WriteLine($"smartcity-receipt: {e.Message}");
            return BadInput;
        }
        finally
        {
            output.Flush();
        }
    }

    private static int Verify(string[] args, TextWriter output)
    {
        if (args.Length == 0 || args[0] != "verify")
        {
            throw new UsageException(Usage);
        }

        string? genesisPath = null, dir = null;
        var files = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new UsageException($"{args[i]} needs a value; {Usage}");
            switch (args[i])
            {
                case "--genesis":
                    genesisPath = value;
                    break;
                case "--file":
                    files.Add(value);
                    break;
                case "--dir":
                    dir = value;
                    break;
                default:
                    throw new UsageException($"unknown option '{args[i]}'; {Usage}");
            }

            i++;
        }

        if (genesisPath is null || (files.Count == 0 && dir is null))
        {
            throw new UsageException(Usage);
        }

        var genesis = GenesisLoader.Load(ReadText("genesis", genesisPath));
        if (!genesis.IsValid)
        {
            throw new UsageException($"genesis {genesisPath}: {genesis.Errors[0]}");
        }

        var anchor = TrustAnchor.FromGenesis(genesis.Document!);
        var curve = anchor.CreateScheme();
        if (files.Count == 1 && dir is null)
        {
            var report = global::SmartCity.Ledger.Receipts.ReceiptVerifier.VerifyDocument(Read("file", files[0]), anchor, curve);
            switch (report.Outcome)
            {
                case ReceiptOutcome.NotAReceipt:
                    throw new UsageException($"receipt: {report.Reason}");
                case ReceiptOutcome.Invalid:
                    output.WriteLine($"INVALID: {report.Check}: {report.Reason}");
                    return Invalid;
            }

            output.WriteLine("VALID");
            foreach (var line in ReceiptSummary.Describe(report, anchor))
            {
                output.WriteLine(line);
            }

            return Valid;
        }

        var paths = new List<string>(files);
        if (dir is not null)
        {
            try
            {
                paths.AddRange(Directory.EnumerateFiles(dir, "*.json").Order(StringComparer.Ordinal));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new UsageException($"--dir: cannot list '{dir}': {e.Message}");
            }
        }

        var receipts = new ReadOnlyMemory<byte>[paths.Count];
        for (var i = 0; i < receipts.Length; i++)
        {
            receipts[i] = Read(i < files.Count ? "file" : "dir", paths[i]);
        }

        var reports = ReceiptSummary.VerifyAll(receipts, anchor, curve);
        var text = new StringBuilder();
        for (var i = 0; i < reports.Length; i++)
        {
            text.AppendLine(ReceiptSummary.BatchLine(paths[i], reports[i]));
        }

        var valid = reports.Count(r => r.Outcome == ReceiptOutcome.Valid);
        var malformed = reports.Count(r => r.Outcome == ReceiptOutcome.NotAReceipt);
        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{reports.Length} receipts: {valid} VALID, {reports.Length - valid - malformed} INVALID, {malformed} not receipts").AppendLine();
        output.Write(text.ToString());
        return malformed > 0 ? throw new UsageException($"{malformed} of {reports.Length} files are not receipts (listed above)")
            : valid == reports.Length ? Valid : Invalid;
    }

    private static byte[] Read(string option, string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"--{option}: cannot read '{path}': {e.Message}");
        }
    }

    private static string ReadText(string option, string path)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Read(option, path)).TrimStart('\uFEFF');
        }
        catch (DecoderFallbackException)
        {
            throw new UsageException($"--{option}: '{path}' is not UTF-8 text");
        }
    }

    private sealed class UsageException(string message) : Exception(message);
}
