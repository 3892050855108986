using SmartCity.Contracts.Node.V1;

namespace SmartCity.CreditApi.Tests.Grpc.Infrastructure;

/// <summary>Asks a node (over gRPC, with the C# client) how a given Watch stream ended, waiting for it to be recorded.</summary>
internal static class WatchJournalProbe
{
    public static async Task<WatchOutcome> WaitForOutcomeAsync(NodeService.NodeServiceClient client, string watchId)
    {
        var giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(30); // a loaded CI machine can take seconds to run the server's catch block
        while (true)
        {
            var status = await client.StatusAsync(new StatusRequest());
            var outcome = status.RecentWatches.FirstOrDefault(w => w.WatchId == watchId);
            if (outcome is not null)
            {
                return outcome;
            }

            if (DateTime.UtcNow > giveUp)
            {
                throw new TimeoutException($"The node never recorded how watch '{watchId}' ended; recent: {string.Join(", ", status.RecentWatches)}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// The server's token was cancelled: by its own deadline timer, or by the client resetting the stream when
    /// the client's deadline (which starts a little earlier) fired first. Both prove the server stopped.
    /// </summary>
    public static void AssertCutShortByTheClientOrTheDeadline(WatchOutcome outcome)
        => Assert.True(
            outcome.Ending is WatchOutcome.Types.Ending.DeadlineExceeded or WatchOutcome.Types.Ending.Cancelled,
            $"expected the server's token to be cancelled, but the watch ended {outcome.Ending}");

    public static string NewWatchId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";
}
