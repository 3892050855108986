using Xunit.Abstractions;
using Xunit.Sdk;

namespace SmartCity.Testing;

/// <summary>
/// A fact in an abstract contract suite that runs once per implementation. It behaves as a plain fact, except in
/// subclasses that use <see cref="PostgresFixture"/>: there it follows <see cref="PostgresFactAttribute"/> (skipped
/// with the reason outside CI when <c>SMARTCITY_TEST_PG</c> is unset, never skipped on CI).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer("SmartCity.Testing.ContractFactDiscoverer", "SmartCity.Testing")]
public sealed class ContractFactAttribute : FactAttribute
{
}

/// <summary>Decides per concrete test class whether a <see cref="ContractFactAttribute"/> test needs PostgreSQL.</summary>
public sealed class ContractFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    protected override IXunitTestCase CreateTestCase(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        ArgumentNullException.ThrowIfNull(testMethod);
        var testClass = testMethod.TestClass.Class.ToRuntimeType();
        var needsPostgres = testClass.GetInterfaces().Contains(typeof(IClassFixture<PostgresFixture>));
        if (needsPostgres && PostgresFixture.ConnectionString is null && !PostgresFixture.IsCi)
        {
            return new XunitSkippedDataRowTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(),
                testMethod, $"{PostgresFixture.EnvironmentVariable} is not set (scripts/test.sh starts a throwaway server and sets it)");
        }

        return base.CreateTestCase(discoveryOptions, testMethod, factAttribute);
    }
}
