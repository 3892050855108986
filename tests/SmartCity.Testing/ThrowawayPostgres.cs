using System.Diagnostics;

namespace SmartCity.Testing;

/// <summary>
/// A PostgreSQL 15 cluster of a test's own (initdb into a temporary directory, Unix socket only, no TCP listener),
/// for fault tests that stop and restart the server; the shared server of <see cref="PostgresFixture"/> must never be
/// stopped. Mirrors scripts/lib/prereqs.sh. Disposing stops it (immediately) and removes its directory, also when the
/// test failed.
/// </summary>
public sealed class ThrowawayPostgres : IAsyncDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string _directory;
    private readonly bool _asPostgresUser = Environment.UserName == "root";

    private ThrowawayPostgres(string directory) => _directory = directory;

    public string ConnectionString => $"Host={_directory};Port=5432;Username=postgres;Database=postgres;Pooling=true;Timeout=5;Command Timeout=30";

    private string DataDirectory => Path.Combine(_directory, "data");

    public static bool IsInstalled => File.Exists(Path.Combine(Bin, "initdb"));

    public static async Task<ThrowawayPostgres> StartAsync()
    {
        var directory = Directory.CreateTempSubdirectory("smartcity-pgfault-").FullName;
        var server = new ThrowawayPostgres(directory);
        try
        {
            if (server._asPostgresUser)
            {
                await RunAsync("chown", "postgres:postgres", directory).ConfigureAwait(false);
            }

            await server.PgAsync("initdb", "-D", server.DataDirectory, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync").ConfigureAwait(false);
            await server.StartServerAsync().ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts (or restarts) the server and waits until it accepts connections.</summary>
    public Task StartServerAsync() => PgAsync("pg_ctl", "-D", DataDirectory, "-w", "-t", "60", "-l", Path.Combine(_directory, "server.log"),
        "-o", $"-c listen_addresses='' -k {_directory} -p 5432 -c max_connections=50 -c shared_buffers=32MB", "start");

    /// <summary><c>pg_ctl stop -m immediate</c>: every server process is killed without a checkpoint, as in a power cut.</summary>
    public Task StopImmediatelyAsync() => PgAsync("pg_ctl", "-D", DataDirectory, "-m", "immediate", "-w", "stop");

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            try
            {
                await StopImmediatelyAsync().ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // Already down.
            }
        }

        Directory.Delete(_directory, recursive: true);
    }

    private Task PgAsync(string tool, params string[] arguments) =>
        _asPostgresUser ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(Bin, tool), .. arguments]) : RunAsync(Path.Combine(Bin, tool), arguments);

    private static async Task RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {await error.ConfigureAwait(false)}{await output.ConfigureAwait(false)}");
        }
    }
}
