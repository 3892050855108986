// `--quick` (first argument) runs every suite with a short job for CI-sized checks; otherwise BenchmarkDotNet's
// own arguments apply, e.g. `--filter '*Verify*'`.
return SmartCity.Benchmarks.BenchmarkEntry.Run(args);
