using System.Buffers.Binary;
using System.Text;
using SmartCity.Ledger.Codec;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Score;

/// <summary>
/// Reads a state value through its own <c>Read(IFieldReader)</c> (so its layout is still written down once), but
/// materialises only the text fields a score shows: any other string or string list is stepped over and read as
/// empty. Values come from certified state written by the state machine, so a value that does not decode is corrupt
/// state and throws. One instance is reused for every value of one score.
/// </summary>
internal sealed class SelectiveFieldReader : IFieldReader
{
    private byte[] _data = [];
    private int _position;
    private string[] _keep = [];

    public T Read<T>(byte[] value, string[] keep, Func<IFieldReader, T> read)
    {
        (_data, _position, _keep) = (value, 0, keep);
        var result = read(this);
        if (_position != _data.Length)
        {
            throw new InvalidDataException($"corrupt {typeof(T).Name} in state: {_data.Length - _position} trailing bytes");
        }

        return result;
    }

    public byte UInt8(string name) => Take(1)[0];

    public uint UInt32(string name) => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    public ulong UInt64(string name) => BinaryPrimitives.ReadUInt64BigEndian(Take(8));

    public bool Bool(string name) => Take(1)[0] == 1;

    public Address Address(string name) => new(Take(Crypto.Address.Size));

    public Hash256 Bytes32(string name) => new(Take(Hash256.Size));

    public string String(string name)
    {
        var bytes = Take((int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(Take(4)), int.MaxValue));
        return Kept(name) ? Encoding.UTF8.GetString(bytes) : string.Empty;
    }

    public IReadOnlyList<string> StringArray(string name)
    {
        var count = BinaryPrimitives.ReadUInt16BigEndian(Take(2));
        if (!Kept(name))
        {
            for (var i = 0; i < count; i++)
            {
                Take((int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(Take(4)), int.MaxValue));
            }

            return [];
        }

        var items = new string[count];
        for (var i = 0; i < count; i++)
        {
            items[i] = Encoding.UTF8.GetString(Take((int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(Take(4)), int.MaxValue)));
        }

        return items;
    }

    private bool Kept(string name) => Array.IndexOf(_keep, name) >= 0;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _position)
        {
            throw new InvalidDataException($"corrupt state value: {count} bytes needed at byte {_position}, {_data.Length - _position} left");
        }

        var span = _data.AsSpan(_position, count);
        _position += count;
        return span;
    }
}
