using System.Diagnostics;
using System.Globalization;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Gm;

namespace SmartCity.Benchmarks.Crypto;

/// <summary>
/// <c>--sm2-vs-openssl [rounds]</c>: the issue's target, "SM2 verify on the native path within 10 % of
/// <c>openssl speed sm2</c> on the same machine in the same run". On a shared machine the two are timed alternately,
/// 3 s each per round (the project's verify on one thread, then <c>openssl speed -seconds 3 sm2</c>), and the medians
/// compared; BouncyCastle's verify is timed the same way beside them. Like <c>openssl speed</c> (without
/// <c>-elapsed</c>), the rate is operations per second of the process's user CPU time, so other work on the machine
/// does not count against either side.
/// </summary>
public static class Sm2VersusOpenSsl
{
    public static int Run(TextWriter output, int rounds)
    {
        var native = Sm2.TryCreateNative(Sm2.DefaultDistinguishingId, out var reason) ?? throw new InvalidOperationException(reason);
        var managed = Sm2.CreateManaged();
        var key = CryptoSamples.PrivateKey(1);
        var digest = Sm3.Hash("SmartCity.Ledger gm benchmark"u8);
        var signature = native.Sign(digest, key);
        var signer = native.GetAddress(key);
        var ours = new List<double>();
        var openssl = new List<double>();
        var bouncyCastle = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            ours.Add(VerifiesPerSecond(native, digest, signature, signer, TimeSpan.FromSeconds(3)));
            openssl.Add(OpenSslVerifiesPerSecond());
            bouncyCastle.Add(VerifiesPerSecond(managed, digest, signature, signer, TimeSpan.FromSeconds(3)));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round + 1}: project native {ours[^1]:F0}/s, openssl speed {openssl[^1]:F0}/s, BouncyCastle {bouncyCastle[^1]:F0}/s"));
        }

        var (o, s, b) = (Median(ours), Median(openssl), Median(bouncyCastle));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SM2 verify, median of {rounds}: project native {o:F0}/s ({1e6 / o:F1} µs), openssl speed {s:F0}/s ({1e6 / s:F1} µs), BouncyCastle {b:F0}/s ({1e6 / b:F1} µs)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"project native / openssl speed: {o / s:P1}; BouncyCastle / project native: {b / o:P1}"));
        return 0;
    }

    private static double VerifiesPerSecond(ISm2 sm2, Hash256 digest, Signature signature, Address signer, TimeSpan duration)
    {
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.UserProcessorTime;
        var watch = Stopwatch.StartNew();
        var count = 0;
        while (watch.Elapsed < duration)
        {
            if (sm2.Verify(digest, signature, signer) != SignatureCheck.Ok)
            {
                throw new InvalidOperationException("the sample signature stopped verifying");
            }

            count++;
        }

        process.Refresh();
        return count / (process.UserProcessorTime - cpuBefore).TotalSeconds;
    }

    private static double OpenSslVerifiesPerSecond()
    {
        var start = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "speed", "-seconds", "3", "sm2" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("openssl did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        _ = stderr.Result;
        var line = text.Split('\n').LastOrDefault(l => l.Contains("SM2", StringComparison.Ordinal)) ?? throw new InvalidOperationException("openssl speed printed no SM2 line");
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return double.Parse(fields[^1], CultureInfo.InvariantCulture);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
