namespace SmartCity.CreditApi.Node;

/// <summary>The four members of the 3+1 consortium: Beijing, Tianjin, Hebei and Xiong'an.</summary>
public static class ConsortiumRegion
{
    public static IReadOnlyList<string> All { get; } = ["BJ", "TJ", "HE", "XA"];

    public static bool IsKnown(string region) => All.Contains(region, StringComparer.Ordinal);
}
