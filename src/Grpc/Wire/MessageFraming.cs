using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;

namespace SmartCity.Grpc.Wire;

/// <summary>
/// Length-prefixed messages: a 1-byte compressed flag, a 4-byte big-endian length, then the protobuf bytes.
/// Every protocol violation becomes an <see cref="RpcException"/> with a precise message, never a crash.
/// </summary>
internal static class MessageFraming
{
    public const int HeaderLength = 5;

    /// <summary>Serializes <paramref name="message"/> with its prefix straight into <paramref name="writer"/>.</summary>
    public static void Write(IBufferWriter<byte> writer, IMessage message, int? maxSize)
    {
        var size = message.CalculateSize();
        if (size > maxSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Sending message of {size} bytes exceeds the maximum message size of {maxSize} bytes.");
        }

        var span = writer.GetSpan(HeaderLength + size);
        span[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..HeaderLength], (uint)size);
        message.WriteTo(span.Slice(HeaderLength, size));
        writer.Advance(HeaderLength + size);
    }

    /// <summary>
    /// Reads the next message, or null when the stream ends cleanly between messages. The buffered bytes never
    /// exceed one prefix plus <paramref name="maxSize"/>.
    /// </summary>
    public static async ValueTask<T?> ReadAsync<T>(PipeReader reader, MessageParser<T> parser, int? maxSize, CancellationToken cancellationToken)
        where T : IMessage<T>
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var frame = TryReadFrame(buffer, maxSize, out var payload, out var error);
            if (error is not null)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                throw error;
            }

            if (frame)
            {
                try
                {
                    return parser.ParseFrom(payload);
                }
                catch (InvalidProtocolBufferException e)
                {
                    throw new RpcException(StatusCode.Internal, $"Failed to deserialize {typeof(T).Name}: {e.Message}");
                }
                finally
                {
                    reader.AdvanceTo(payload.End);
                }
            }

            if (result.IsCompleted)
            {
                var incomplete = buffer.IsEmpty ? null : new RpcException(StatusCode.Internal, IncompleteMessage(buffer));
                reader.AdvanceTo(buffer.End);
                return incomplete is null ? default : throw incomplete;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool TryReadFrame(in ReadOnlySequence<byte> buffer, int? maxSize, out ReadOnlySequence<byte> payload, out RpcException? error)
    {
        payload = default;
        error = null;
        if (buffer.Length < HeaderLength)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        if (header[0] != 0)
        {
            error = header[0] == 1
                ? new RpcException(StatusCode.Internal, "Received a message with the compressed flag set, but no grpc-encoding was negotiated.")
                : new RpcException(StatusCode.Internal, $"Received a message with an invalid compressed flag {header[0]}.");
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)(maxSize ?? int.MaxValue))
        {
            error = new RpcException(StatusCode.ResourceExhausted, $"Received message of {length} bytes exceeds the maximum message size of {maxSize ?? int.MaxValue} bytes.");
            return false;
        }

        if (buffer.Length - HeaderLength < length)
        {
            return false;
        }

        payload = buffer.Slice(HeaderLength, length);
        return true;
    }

    private static string IncompleteMessage(in ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length < HeaderLength)
        {
            return $"Incomplete message: the stream ended after {buffer.Length} of the {HeaderLength} prefix bytes.";
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        return $"Incomplete message: the prefix announces {length} bytes but the stream ended after {buffer.Length - HeaderLength}.";
    }
}
