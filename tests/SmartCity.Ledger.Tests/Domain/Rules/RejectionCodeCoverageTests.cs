using SmartCity.Ledger.State;
using SmartCity.Testing;

namespace SmartCity.Ledger.Tests.Domain.Rules;

public sealed class RejectionCodeCoverageTests
{
    [Fact]
    public void Every_rejection_code_is_asserted_by_a_rule_test()
    {
        var tests = string.Concat(Directory.GetFiles(RepositoryFiles.PathOf("tests/SmartCity.Ledger.Tests/Domain"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(nameof(RejectionCodeCoverageTests) + ".cs", StringComparison.Ordinal))
            .Select(File.ReadAllText));
        var untested = Enum.GetNames<RejectionCode>().Skip(1).Where(code => !tests.Contains("RejectionCode." + code + ",", StringComparison.Ordinal) && !tests.Contains("RejectionCode." + code + ")", StringComparison.Ordinal));
        Assert.Empty(untested);
    }
}
