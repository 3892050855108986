using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using SmartCity.Grpc.Wire;

namespace SmartCity.Grpc.Server;

/// <summary>Writes length-prefixed messages to the HTTP/2 response body and flushes each one.</summary>
internal sealed class HttpResponseStreamWriter<T>(HttpResponse response, ServerCallContext context, int? maxSendMessageSize) : IServerStreamWriter<T>
    where T : IMessage<T>
{
    private int _writing;

    public async Task WriteAsync(T message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        context.CancellationToken.ThrowIfCancellationRequested();
        if (Interlocked.Exchange(ref _writing, 1) != 0)
        {
            throw new InvalidOperationException("A write is already in progress; await each WriteAsync before the next.");
        }

        try
        {
            MessageFraming.Write(response.BodyWriter, message, maxSendMessageSize);
            var token = cancellationToken.CanBeCanceled ? cancellationToken : context.CancellationToken;
            var flush = await response.BodyWriter.FlushAsync(token).ConfigureAwait(false);
            if (flush.IsCanceled || context.CancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(context.CancellationToken);
            }
        }
        finally
        {
            Volatile.Write(ref _writing, 0);
        }
    }
}
