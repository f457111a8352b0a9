using System.Buffers.Binary;
using System.Text;

namespace Bpf.Loader.Tests;

/// <summary>Netlink encoding and error parsing without a kernel.</summary>
public sealed class NetlinkMessageTests
{
    [Fact]
    public void Message_WithNestedAttributes_HasTheKernelsLayout()
    {
        var msg = new NetlinkMessage(19, 0);
        msg.Append(new byte[16]);
        int nest = msg.BeginNest(43);
        msg.AttrS32(1, -1);
        msg.AttrString(7, "abcde"); // 6 bytes with the NUL: padded to 8
        msg.EndNest(nest);
        var bytes = msg.Finish(0x01020304, 5);
        Assert.Equal(16 + 16 + 4 + 8 + 12, bytes.Length);
        Assert.Equal((uint)bytes.Length, BinaryPrimitives.ReadUInt32LittleEndian(bytes));
        Assert.Equal(19, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(5, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6)));
        Assert.Equal(0x01020304u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        var nested = bytes.AsSpan(32);
        Assert.Equal(4 + 8 + 12, BinaryPrimitives.ReadUInt16LittleEndian(nested)); // nest length covers its children, padding included
        Assert.Equal(43 | 0x8000, BinaryPrimitives.ReadUInt16LittleEndian(nested[2..]));
        Assert.True(NetlinkAttributes.Find(nested[4..], 7, out var name));
        Assert.Equal("abcde\0", Encoding.ASCII.GetString(name));
        Assert.True(NetlinkAttributes.Find(nested[4..], 1, out var fd));
        Assert.Equal(-1, BinaryPrimitives.ReadInt32LittleEndian(fd));
        Assert.False(NetlinkAttributes.Find(nested[4..], 2, out _));
    }

    private static byte[] ErrorPayload(int errno, int requestLength, bool capped, string? extack, uint? offset)
    {
        var b = new List<byte>();
        b.AddRange(BitConverter.GetBytes(-errno));
        var request = new byte[capped ? 16 : requestLength];
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)requestLength);
        b.AddRange(request);
        while (b.Count % 4 != 0) b.Add(0);
        void Attr(ushort type, byte[] value)
        {
            b.AddRange(BitConverter.GetBytes((ushort)(4 + value.Length)));
            b.AddRange(BitConverter.GetBytes(type));
            b.AddRange(value);
            while (b.Count % 4 != 0) b.Add(0);
        }
        if (extack is not null) Attr(1, Encoding.UTF8.GetBytes(extack + "\0"));
        if (offset is uint o) Attr(2, BitConverter.GetBytes(o));
        return b.ToArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ErrorWithExtendedAck_GivesTheKernelsMessageAndOffset(bool capped)
    {
        var payload = ErrorPayload(16, 44, capped, "XDP program already attached.", 36);
        ushort flags = (ushort)(0x200 | (capped ? 0x100 : 0));
        var e = NetlinkSocket.Error("RTM_SETLINK (attach)", 16, flags, payload);
        Assert.Equal("EBUSY", e.ErrnoName);
        Assert.Equal("XDP program already attached.", e.ExtendedAckMessage);
        Assert.Equal(36u, e.ErrorOffset);
        Assert.Contains("kernel says: XDP program already attached.", e.Message);
        Assert.StartsWith("RTM_SETLINK (attach) failed: EBUSY", e.Message);
    }

    [Fact]
    public void ErrorWithoutTlvs_IsStillAnErrno()
    {
        var e = NetlinkSocket.Error("RTM_SETLINK", 19, 0, ErrorPayload(19, 32, false, null, null));
        Assert.Equal("ENODEV", e.ErrnoName);
        Assert.Null(e.ExtendedAckMessage);
        Assert.Null(e.ErrorOffset);
    }

    [Fact]
    public void TruncatedTlvs_AreIgnoredNotFatal()
    {
        var payload = ErrorPayload(22, 200, false, null, null); // claims a 200-byte request but echoes less
        var e = NetlinkSocket.Error("RTM_SETLINK", 22, 0x200, payload.AsSpan(0, 24));
        Assert.Equal("EINVAL", e.ErrnoName);
        Assert.Null(e.ExtendedAckMessage);
    }
}
