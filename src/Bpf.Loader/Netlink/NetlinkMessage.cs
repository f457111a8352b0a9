using System.Buffers.Binary;
using System.Text;

namespace Bpf.Loader;

/// <summary>
/// Builds one netlink request: the 16-byte <c>nlmsghdr</c>, a fixed family header (ifinfomsg, tcmsg) and
/// attributes (<c>nlattr</c>: u16 length, u16 type, payload padded to 4 bytes), nested ones included. The
/// length fields are filled in when a nest closes and when the message is finished.
/// </summary>
internal sealed class NetlinkMessage
{
    internal const int HeaderSize = 16;
    internal const ushort NLA_F_NESTED = 0x8000;

    private byte[] _buffer = new byte[256];
    private int _length;

    internal NetlinkMessage(ushort type, ushort flags)
    {
        Type = type;
        Flags = flags;
        _length = HeaderSize;
    }

    internal ushort Type { get; }
    internal ushort Flags { get; }

    private Span<byte> Reserve(int count)
    {
        int padded = Align(count);
        if (_length + padded > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + padded));
        var span = _buffer.AsSpan(_length, padded);
        span.Clear();
        _length += padded;
        return span[..count];
    }

    internal static int Align(int n) => (n + 3) & ~3;

    /// <summary>Appends raw bytes (a family header such as ifinfomsg).</summary>
    internal void Append(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    internal void AttrU32(ushort type, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Attr(type, 4), value);

    internal void AttrS32(ushort type, int value) => BinaryPrimitives.WriteInt32LittleEndian(Attr(type, 4), value);

    /// <summary>A NUL-terminated string attribute.</summary>
    internal void AttrString(ushort type, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        bytes.CopyTo(Attr(type, bytes.Length + 1));
    }

    private Span<byte> Attr(ushort type, int payload)
    {
        var span = Reserve(4 + payload);
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)(4 + payload));
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], type);
        return span[4..];
    }

    /// <summary>Opens a nested attribute; close it with <see cref="EndNest"/>.</summary>
    internal int BeginNest(ushort type)
    {
        int start = _length;
        var span = Reserve(4);
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], (ushort)(type | NLA_F_NESTED));
        return start;
    }

    internal void EndNest(int start) =>
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(start), checked((ushort)(_length - start)));

    /// <summary>The finished message with its header (length, type, flags, sequence number; port id 0 = the kernel).</summary>
    internal byte[] Finish(uint sequence, ushort extraFlags = 0)
    {
        var span = _buffer.AsSpan(0, HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)_length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], Type);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], (ushort)(Flags | extraFlags));
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], 0);
        return _buffer.AsSpan(0, _length).ToArray();
    }
}

/// <summary>Walks the attributes of a netlink payload (no allocation; bad lengths end the walk).</summary>
internal ref struct NetlinkAttributes
{
    private ReadOnlySpan<byte> _rest;

    internal NetlinkAttributes(ReadOnlySpan<byte> payload) => _rest = payload;

    internal ushort Type { get; private set; }
    internal ReadOnlySpan<byte> Value { get; private set; }

    internal bool MoveNext()
    {
        if (_rest.Length < 4) return false;
        int len = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
        if (len < 4 || len > _rest.Length) return false;
        Type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]) & 0x3fff); // drop NESTED / NET_BYTEORDER
        Value = _rest[4..len];
        _rest = _rest[Math.Min(NetlinkMessage.Align(len), _rest.Length)..];
        return true;
    }

    /// <summary>The first attribute of <paramref name="type"/>, or false.</summary>
    internal static bool Find(ReadOnlySpan<byte> payload, ushort type, out ReadOnlySpan<byte> value)
    {
        var it = new NetlinkAttributes(payload);
        while (it.MoveNext())
        {
            if (it.Type == type)
            {
                value = it.Value;
                return true;
            }
        }
        value = default;
        return false;
    }
}
