// `--quick` (first argument) runs every suite with a short job for CI-sized checks; otherwise BenchmarkDotNet's
// own arguments apply, e.g. `--filter '*Verify*'`. `storage …` runs the storage load tool (docs/storage.md), `node …`
// the node load tool (docs/node.md).
return args switch
{
    ["storage", .. var rest] => await SmartCity.Benchmarks.Storage.StorageLoad.RunAsync(rest),
    ["node", .. var rest] => await SmartCity.Benchmarks.Node.NodeLoad.RunAsync(rest),
    _ => SmartCity.Benchmarks.BenchmarkEntry.Run(args),
};
