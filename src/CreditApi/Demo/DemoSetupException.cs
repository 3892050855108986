namespace SmartCity.CreditApi.Demo;

/// <summary>The tour cannot start with what it was given (a genesis without the sample keys, a used data directory).</summary>
public sealed class DemoSetupException(string message) : Exception(message);
