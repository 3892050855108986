using System.Globalization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Tests.Grpc.Infrastructure;
using SmartCity.Ledger.Jobs;
using SmartCity.Ledger.Jobs.Scheduling;

namespace SmartCity.CreditApi.Tests.Grpc;

/// <summary>A node with its jobs scheduled every second and /metrics served: Status shows the runs, the scrape parses.</summary>
public sealed class NodeJobsTests : IAsyncLifetime
{
    private readonly JobsNode _node = new();

    public Task InitializeAsync() => _node.InitializeAsync();

    public Task DisposeAsync() => _node.DisposeAsync();

    [Fact]
    public async Task The_chain_audit_runs_on_schedule_and_Status_and_the_metrics_scrape_report_it()
    {
        var runs = _node.Services.GetRequiredService<JobRuns>();
        var audited = new TaskCompletionSource<JobRun>(TaskCreationOptions.RunContinuationsAsynchronously);
        runs.Completed += run =>
        {
            if (run.Job == ChainAuditJob.JobName)
            {
                audited.TrySetResult(run);
            }
        };
        if (runs.Last.FirstOrDefault(r => r.Job == ChainAuditJob.JobName) is { } already)
        {
            audited.TrySetResult(already);
        }

        var run = await audited.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var status = await _node.Client.StatusAsync(new StatusRequest());
        var samples = await ScrapeAsync();

        Assert.Equal(JobOutcomes.Succeeded, run.Outcome);
        var job = Assert.Single(status.Jobs, j => j.Job == ChainAuditJob.JobName);
        Assert.Equal(JobOutcomes.Succeeded, job.Outcome);
        Assert.Contains("intact", job.Summary, StringComparison.Ordinal);
        Assert.Equal(0, samples["smartcity_ledger_jobs_audit_height"]);
        Assert.True(samples.TryGetValue("smartcity_ledger_jobs_job_runs{job=\"chain-audit\",outcome=\"succeeded\"}", out var count) && count >= 1, string.Join("\n", samples.Select(kv => kv.Key + " " + kv.Value)));
        Assert.Equal(0, samples["smartcity_ledger_node_height"]);
        Assert.True(samples.TryGetValue("smartcity_ledger_node_native_tables", out var native) && native > 0, string.Join("\n", samples.Keys.Where(k => k.Contains("native", StringComparison.Ordinal))));
        Assert.Contains(samples.Keys, k => k.StartsWith("smartcity_ledger_jobs_job_duration_count", StringComparison.Ordinal));
    }

    /// <summary>GET /metrics on the metrics listener over HTTP/1.1, parsed as the Prometheus text format: series → value.</summary>
    private async Task<Dictionary<string, double>> ScrapeAsync()
    {
        var addresses = _node.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        using var http = new HttpClient();
        foreach (var address in addresses.Skip(1))
        {
            using var response = await http.GetAsync(new Uri(new Uri(address), "/metrics"));
            if (!response.IsSuccessStatusCode)
            {
                continue;
            }

            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            var samples = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
            {
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }

                var space = line.LastIndexOf(' ');
                samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
            }

            return samples;
        }

        throw new InvalidOperationException($"no listener of {string.Join(", ", addresses)} serves /metrics");
    }

    private sealed class JobsNode : InProcessNode
    {
        protected override void ConfigureLedger(System.Text.Json.Nodes.JsonObject config)
        {
            config["jobs"] = new System.Text.Json.Nodes.JsonObject
            {
                ["chainAudit"] = new System.Text.Json.Nodes.JsonObject { ["interval"] = "00:00:01" },
                ["reconciliation"] = new System.Text.Json.Nodes.JsonObject { ["enabled"] = false },
            };
            config["metrics"] = new System.Text.Json.Nodes.JsonObject { ["listen"] = "127.0.0.1:0" };
        }
    }
}
