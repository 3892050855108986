namespace SmartCity.Grpc.Server;

/// <summary>The services and methods mapped so far, so that an unknown call gets a precise UNIMPLEMENTED.</summary>
internal sealed class GrpcServiceRegistry
{
    private readonly Dictionary<string, HashSet<string>> _methodsByService = new(StringComparer.Ordinal);
    private bool _fallbackMapped;

    public void Add(IMethod method)
    {
        if (!_methodsByService.TryGetValue(method.ServiceName, out var methods))
        {
            _methodsByService[method.ServiceName] = methods = new HashSet<string>(StringComparer.Ordinal);
        }

        if (!methods.Add(method.Name))
        {
            throw new InvalidOperationException($"{method} is mapped twice.");
        }
    }

    public bool HasService(string serviceName) => _methodsByService.ContainsKey(serviceName);

    /// <summary>True the first time only: the catch-all endpoint is mapped once per route builder.</summary>
    public bool ClaimFallback()
    {
        var first = !_fallbackMapped;
        _fallbackMapped = true;
        return first;
    }
}
