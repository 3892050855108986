using System.Globalization;
using System.Text.Json;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Gm;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Regions;

namespace SmartCity.Ledger.Genesis;

/// <summary>The outcome of loading a genesis file: the document, or every error found with its JSON path.</summary>
public sealed record GenesisLoadResult(GenesisDocument? Document, IReadOnlyList<GenesisError> Errors)
{
    public bool IsValid => Document is not null;
}

/// <summary>
/// Reads and validates a genesis file. Bad input never throws: every problem is reported as a
/// <see cref="GenesisError"/> with the JSON path of the offending value, so an operator can fix them all at once.
/// </summary>
public static class GenesisLoader
{
    public const int SupportedFormatVersion = 1;

    public static GenesisLoadResult Load(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            return new GenesisLoadResult(null, [new GenesisError($"$ (line {e.LineNumber + 1})", "not valid JSON: " + e.Message)]);
        }

        using (document)
        {
            var reader = new Reader();
            var genesis = reader.ReadGenesis(document.RootElement);
            return reader.Errors.Count == 0 ? new GenesisLoadResult(genesis, []) : new GenesisLoadResult(null, reader.Errors);
        }
    }

    private sealed class Reader
    {
        public List<GenesisError> Errors { get; } = [];

        public GenesisDocument ReadGenesis(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                Error("$", "the genesis is a JSON object");
                return null!;
            }

            var version = Int(root, "$", "formatVersion", 1, int.MaxValue);
            if (version is not null and not SupportedFormatVersion)
            {
                Error("$.formatVersion", $"format version {version} is not supported (this node reads {SupportedFormatVersion})");
            }

            var chainId = ULong(root, "$", "chainId");
            var genesisTime = Time(root, "$", "genesisTime");
            var domain = Domain(root, chainId);
            var regions = Array(root, "$", "regions", ReadRegion);
            CheckRegions(regions);
            var catalogue = new RegionCatalogue(regions.Where(r => r is not null)!);
            var members = Array(root, "$", "members", (e, p) => ReadMember(e, p, catalogue));
            Unique(members, m => m?.Address.ToString(), "$.members", "address");
            Unique(members, m => m?.Uscc.Value, "$.members", "uscc");
            if (members.Count == 0)
            {
                Error("$.members", "a consortium needs at least one member");
            }

            var validators = Array(root, "$", "validators", (e, p) => ReadValidator(e, p, catalogue));
            Unique(validators, v => v?.Address.ToString(), "$.validators", "address");
            if (validators.Count == 0)
            {
                Error("$.validators", "a consortium needs at least one validator");
            }

            var parameters = Parameters(root);
            var crypto = Crypto(root);
            return new GenesisDocument(version ?? 0, chainId ?? 0, genesisTime ?? default, domain!, regions!, members!, validators!, parameters!) { Crypto = crypto };
        }

        /// <summary><c>"crypto"</c>: "eth" (also when absent) or "gm", with an optional <c>"sm2Id"</c> for gm only.</summary>
        private GenesisCrypto Crypto(JsonElement root)
        {
            var suite = CryptoSuiteId.Eth;
            if (root.TryGetProperty("crypto", out var crypto)
                && (crypto.ValueKind != JsonValueKind.String || !CryptoSuiteNames.TryParse(crypto.GetString(), out suite)))
            {
                Error("$.crypto", $"must be \"{CryptoSuiteNames.Eth}\" (secp256k1/Keccak-256, the default) or \"{CryptoSuiteNames.Gm}\" (SM2/SM3)");
                return GenesisCrypto.Eth;
            }

            var id = Sm2.DefaultDistinguishingId;
            if (root.TryGetProperty("sm2Id", out var sm2Id))
            {
                if (suite != CryptoSuiteId.Gm)
                {
                    Error("$.sm2Id", "an SM2 distinguishing identifier belongs only to a \"gm\" chain");
                }
                else if (sm2Id.ValueKind != JsonValueKind.String || sm2Id.GetString() is not { Length: > 0 } text || System.Text.Encoding.UTF8.GetByteCount(text) > Sm2.MaxDistinguishingIdBytes)
                {
                    Error("$.sm2Id", $"must be a string of 1 to {Sm2.MaxDistinguishingIdBytes} UTF-8 bytes");
                }
                else
                {
                    id = text;
                }
            }

            return new GenesisCrypto(suite, id);
        }

        private Eip712DomainSpec? Domain(JsonElement root, ulong? chainId)
        {
            if (Object(root, "$", "eip712Domain") is not { } domain)
            {
                return null;
            }

            const string Path = "$.eip712Domain";
            var name = String(domain, Path, "name", 1, 64);
            var version = String(domain, Path, "version", 1, 16);
            var domainChain = ULong(domain, Path, "chainId");
            if (domainChain is not null && chainId is not null && domainChain != chainId)
            {
                Error(Path + ".chainId", $"must equal the consortium chainId {chainId}");
            }

            return new Eip712DomainSpec(name ?? "", version ?? "", domainChain ?? 0);
        }

        private Region? ReadRegion(JsonElement element, string path)
        {
            var code = String(element, path, "code", 2, 8);
            var name = String(element, path, "name", 1, 64);
            var prefixes = Array(element, path, "divisionPrefixes", (e, p) =>
            {
                var text = e.ValueKind == JsonValueKind.String ? e.GetString() : null;
                if (text is not { Length: >= 2 and <= 6 } || !AsciiDigits.All(text))
                {
                    Error(p, "a division prefix is 2 to 6 digits of a GB/T 2260 code");
                    return null;
                }

                return text;
            });
            if (prefixes.Count == 0)
            {
                Error(path + ".divisionPrefixes", "a region needs at least one division prefix");
            }

            return code is null || name is null ? null : new Region(code, name, [.. prefixes.OfType<string>()]);
        }

        private void CheckRegions(List<Region?> regions)
        {
            Unique(regions, r => r?.Code, "$.regions", "code");
            var owner = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < regions.Count; i++)
            {
                foreach (var prefix in regions[i]?.DivisionPrefixes ?? [])
                {
                    if (!owner.TryAdd(prefix, regions[i]!.Code))
                    {
                        Error($"$.regions[{i}].divisionPrefixes", $"prefix {prefix} already belongs to region {owner[prefix]}");
                    }
                }
            }

            if (regions.Count == 0)
            {
                Error("$.regions", "a consortium needs at least one region");
            }
        }

        private GenesisMember? ReadMember(JsonElement element, string path, RegionCatalogue catalogue)
        {
            var address = AddressField(element, path, "address");
            var usccText = String(element, path, "uscc", 1, 64);
            UnifiedSocialCreditCode? uscc = null;
            if (usccText is not null)
            {
                var parsed = UnifiedSocialCreditCode.Parse(usccText);
                if (parsed.IsValid)
                {
                    uscc = parsed.Value;
                }
                else
                {
                    Error(path + ".uscc", $"{parsed.Error}: {parsed.Detail}");
                }
            }

            var name = String(element, path, "name", 1, 200);
            var region = RegionField(element, path, catalogue);
            var roles = MemberRole.None;
            var roleNames = Array(element, path, "roles", (e, p) =>
            {
                // Only the exact role names: Enum.TryParse would also take "1" or "A, B".
                var name = e.ValueKind == JsonValueKind.String ? e.GetString() : null;
                if (name is not null && name != nameof(MemberRole.None) && Enum.GetNames<MemberRole>().Contains(name))
                {
                    roles |= Enum.Parse<MemberRole>(name);
                    return name;
                }

                Error(p, $"unknown role; roles are {string.Join(", ", Enum.GetNames<MemberRole>().Skip(1))}");
                return null;
            });
            if (roleNames.Count == 0)
            {
                Error(path + ".roles", "a member needs at least one role");
            }

            return address is null || uscc is null || name is null || region is null ? null : new GenesisMember(address.Value, uscc.Value, name, region, roles);
        }

        private GenesisValidator? ReadValidator(JsonElement element, string path, RegionCatalogue catalogue)
        {
            var address = AddressField(element, path, "address");
            var name = String(element, path, "name", 1, 200);
            var region = RegionField(element, path, catalogue);
            return address is null || name is null || region is null ? null : new GenesisValidator(address.Value, name, region);
        }

        private ChainParameters? Parameters(JsonElement root)
        {
            if (Object(root, "$", "parameters") is not { } p)
            {
                return null;
            }

            const string Path = "$.parameters";
            var maxBlockTransactions = Int(p, Path, "maxBlockTransactions", 1, 1_000_000);
            var maxBlockBytes = Int(p, Path, "maxBlockBytes", 1024, 1 << 30);
            var maxTransactionBytes = Int(p, Path, "maxTransactionBytes", 256, 1 << 24);
            if (maxBlockBytes < maxTransactionBytes)
            {
                Error(Path + ".maxBlockBytes", "a block must be able to hold the largest transaction");
            }

            PublicationRule? minor = null, moderate = null, serious = null;
            if (Object(p, Path, "publication") is { } publication)
            {
                minor = Publication(publication, Path + ".publication", "minor");
                moderate = Publication(publication, Path + ".publication", "moderate");
                serious = Publication(publication, Path + ".publication", "serious");
            }

            var objectionDays = Int(p, Path, "objectionDeadlineDays", 1, 365);
            var proposalDays = Int(p, Path, "proposalLifetimeDays", 1, 365);
            GovernanceRule? governance = null;
            if (Object(p, Path, "governance") is { } g)
            {
                var rule = String(g, Path + ".governance", "rule", 1, 32);
                if (rule == "strict-majority")
                {
                    governance = GovernanceRule.StrictMajority;
                }
                else if (rule == "fraction")
                {
                    var numerator = Int(g, Path + ".governance", "numerator", 1, 1000);
                    var denominator = Int(g, Path + ".governance", "denominator", 1, 1000);
                    if (numerator >= denominator)
                    {
                        Error(Path + ".governance", "the fraction must be below 1 (approvals must exceed it)");
                    }

                    governance = new GovernanceRule(numerator ?? 1, denominator ?? 2);
                }
                else if (rule is not null)
                {
                    Error(Path + ".governance.rule", "the rule is \"strict-majority\" or \"fraction\"");
                }
            }

            return new ChainParameters(maxBlockTransactions ?? 0, maxBlockBytes ?? 0, maxTransactionBytes ?? 0, minor!, moderate!, serious!, objectionDays ?? 0, proposalDays ?? 0, governance!);
        }

        private PublicationRule? Publication(JsonElement element, string path, string severity)
        {
            if (Object(element, path, severity) is not { } rule)
            {
                return null;
            }

            var at = $"{path}.{severity}";
            var min = Int(rule, at, "minMonths", 0, 120);
            var max = Int(rule, at, "maxMonths", 0, 120);
            var repair = Int(rule, at, "repairAfterMonths", 0, 120);
            if (min > max)
            {
                Error(at, "minMonths exceeds maxMonths");
            }

            return new PublicationRule(min ?? 0, max ?? 0, repair ?? 0);
        }

        private string? RegionField(JsonElement element, string path, RegionCatalogue catalogue)
        {
            var region = String(element, path, "region", 1, 8);
            if (region is not null && !catalogue.Contains(region))
            {
                Error(path + ".region", $"'{region}' is not a region of this genesis");
                return null;
            }

            return region;
        }

        private Address? AddressField(JsonElement element, string path, string name)
        {
            var text = String(element, path, name, 1, 64);
            if (text is null)
            {
                return null;
            }

            if (!Address.TryParse(text, out var address, out var error))
            {
                Error($"{path}.{name}", error);
                return null;
            }

            return address;
        }

        private List<T?> Array<T>(JsonElement parent, string path, string name, Func<JsonElement, string, T?> read)
        {
            var at = $"{path}.{name}";
            if (!parent.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array)
            {
                Error(at, "required array is missing");
                return [];
            }

            var items = new List<T?>();
            var i = 0;
            foreach (var element in array.EnumerateArray())
            {
                items.Add(read(element, $"{at}[{i++}]"));
            }

            return items;
        }

        private JsonElement? Object(JsonElement parent, string path, string name)
        {
            if (parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object)
            {
                return value;
            }

            Error($"{path}.{name}", "required object is missing");
            return null;
        }

        private string? String(JsonElement parent, string path, string name, int minLength, int maxLength)
        {
            if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
            {
                Error($"{path}.{name}", "required string is missing");
                return null;
            }

            var text = value.GetString()!;
            if (text.Length < minLength || text.Length > maxLength)
            {
                Error($"{path}.{name}", $"length must be {minLength} to {maxLength}, got {text.Length}");
                return null;
            }

            return text;
        }

        private int? Int(JsonElement parent, string path, string name, int min, int max)
        {
            if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
            {
                Error($"{path}.{name}", "required integer is missing");
                return null;
            }

            if (number < min || number > max)
            {
                Error($"{path}.{name}", $"must be between {min} and {max}, got {number}");
                return null;
            }

            return number;
        }

        private ulong? ULong(JsonElement parent, string path, string name)
        {
            if (!parent.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Number || !value.TryGetUInt64(out var number) || number == 0)
            {
                Error($"{path}.{name}", "required positive integer is missing");
                return null;
            }

            return number;
        }

        private DateTimeOffset? Time(JsonElement parent, string path, string name)
        {
            var text = String(parent, path, name, 1, 40);
            if (text is null)
            {
                return null;
            }

            if (!DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            {
                Error($"{path}.{name}", "a UTC time as yyyy-MM-ddTHH:mm:ssZ");
                return null;
            }

            return time;
        }

        private void Unique<T>(List<T?> items, Func<T?, string?> key, string path, string field)
        {
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < items.Count; i++)
            {
                if (key(items[i]) is { } k && !seen.Add(k))
                {
                    Error($"{path}[{i}].{field}", $"duplicate {field} {k}");
                }
            }
        }

        private void Error(string path, string reason) => Errors.Add(new GenesisError(path, reason));
    }
}
