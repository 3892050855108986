// `--quick` (first argument) runs every suite with a short job for CI-sized checks; otherwise BenchmarkDotNet's
// own arguments apply, e.g. `--filter '*Verify*'`. `storage …` runs the storage load tool (docs/storage.md).
return args is ["storage", .. var rest]
    ? await SmartCity.Benchmarks.Storage.StorageLoad.RunAsync(rest)
    : SmartCity.Benchmarks.BenchmarkEntry.Run(args);
