using System.Reflection;

namespace SmartCity.CreditApi.Node;

/// <summary>The version of this build, as the command line and the node's Status report it.</summary>
public static class ProductVersion
{
    public static string Current { get; } =
        typeof(ProductVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
