using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SmartCity.Testing;

/// <summary>
/// A throwaway SoftHSM2 (Debian's softhsm2, a real PKCS#11 module) for one test: its own token directory and
/// configuration file under /tmp, selected through SOFTHSM2_CONF — set in this process's native environment as well,
/// because the module reads it with getenv() when it is initialised. Tests that use it run one at a time (the module
/// is initialised once per process) and dispose it to delete the tokens.
/// </summary>
public sealed partial class SoftHsm : IDisposable
{
    public const string ModulePath = "/usr/lib/softhsm/libsofthsm2.so";
    public const string Util = "/usr/bin/softhsm2-util";
    public const string SecurityOfficerPin = "12345678";
    public const string UserPin = "87654321";

    private SoftHsm(string directory)
    {
        Directory = directory;
        ConfigPath = Path.Combine(directory, "softhsm2.conf");
    }

    /// <summary>Why SoftHSM cannot run here, or null.</summary>
    public static string? Problem => File.Exists(ModulePath) && File.Exists(Util) ? null : $"{ModulePath} or {Util} is missing (apt-get install softhsm2)";

    public string Directory { get; }

    public string ConfigPath { get; }

    /// <summary>A new empty SoftHSM: token directory, configuration, SOFTHSM2_CONF pointing at it.</summary>
    public static SoftHsm Create()
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("smartcity-softhsm-").FullName;
        var hsm = new SoftHsm(directory);
        var tokens = Path.Combine(directory, "tokens");
        System.IO.Directory.CreateDirectory(tokens);
        File.WriteAllText(hsm.ConfigPath, $"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");
        Environment.SetEnvironmentVariable("SOFTHSM2_CONF", hsm.ConfigPath);
        if (SetNativeEnvironment("SOFTHSM2_CONF", hsm.ConfigPath, 1) != 0)
        {
            throw new InvalidOperationException("setenv(SOFTHSM2_CONF) failed");
        }

        return hsm;
    }

    /// <summary>Initialises a token in the first free slot with <see cref="SecurityOfficerPin"/> and <paramref name="userPin"/>.</summary>
    public void InitToken(string label, string userPin = UserPin)
        => Run(Util, "--init-token", "--free", "--label", label, "--so-pin", SecurityOfficerPin, "--pin", userPin);

    /// <summary>Runs a tool (softhsm2-util, pkcs11-tool) against this SoftHSM; fails the test if it fails.</summary>
    public string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SOFTHSM2_CONF"] = ConfigPath;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish within 60 s");
        }

        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited {process.ExitCode}: {output.Result}{error.Result}");
        return output.Result;
    }

    /// <summary>Deletes every token (what an operator pulling the device or wiping the token does).</summary>
    public void RemoveTokens()
    {
        foreach (var entry in System.IO.Directory.EnumerateFileSystemEntries(Path.Combine(Directory, "tokens")))
        {
            System.IO.Directory.Delete(entry, recursive: true);
        }
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A token file still open by the module; the temp directory is cleaned with the machine.
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetNativeEnvironment(string name, string value, int overwrite);
}

/// <summary>A fact that needs SoftHSM2: skipped outside CI when it is missing, failing on CI (scripts/test.sh installs it).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SoftHsmFactAttribute : FactAttribute
{
    public SoftHsmFactAttribute()
    {
        if (SoftHsm.Problem is { } problem && !PostgresFixture.IsCi)
        {
            Skip = problem;
        }
    }
}
