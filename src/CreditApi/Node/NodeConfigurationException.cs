namespace SmartCity.CreditApi.Node;

/// <summary>The node cannot start with its configuration (an unreadable TLS certificate, say); the message is one line.</summary>
public sealed class NodeConfigurationException(string message, Exception? inner = null) : Exception(message, inner);
