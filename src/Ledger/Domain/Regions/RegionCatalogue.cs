using SmartCity.Ledger.Domain.Identifiers;

namespace SmartCity.Ledger.Domain.Regions;

/// <summary>A consortium region and the GB/T 2260 division-code prefixes that belong to it (data from genesis).</summary>
public sealed record Region(string Code, string Name, IReadOnlyList<string> DivisionPrefixes);

/// <summary>
/// Maps a 6-digit division code to its region by the longest matching prefix, so that Xiong'an's "1331" and its
/// county codes "130629" win over Hebei's "13". A code no prefix matches is outside the consortium.
/// </summary>
public sealed class RegionCatalogue
{
    private readonly List<(string Prefix, Region Region)> _prefixes;
    private readonly Dictionary<string, Region> _byCode;

    public RegionCatalogue(IEnumerable<Region> regions)
    {
        Regions = [.. regions];
        _byCode = Regions.ToDictionary(r => r.Code, StringComparer.Ordinal);
        _prefixes = [.. Regions.SelectMany(r => r.DivisionPrefixes.Select(p => (p, r))).OrderByDescending(e => e.p.Length).ThenBy(e => e.p, StringComparer.Ordinal)];
    }

    public IReadOnlyList<Region> Regions { get; }

    public bool Contains(string regionCode) => _byCode.ContainsKey(regionCode);

    public Region? Find(string regionCode) => _byCode.GetValueOrDefault(regionCode);

    /// <summary>The region a division code belongs to, or null when it is not a 6-digit code of the consortium.</summary>
    public Region? RegionOf(string divisionCode)
    {
        if (divisionCode.Length != 6 || !AsciiDigits.All(divisionCode))
        {
            return null;
        }

        foreach (var (prefix, region) in _prefixes)
        {
            if (divisionCode.StartsWith(prefix, StringComparison.Ordinal))
            {
                return region;
            }
        }

        return null;
    }
}
