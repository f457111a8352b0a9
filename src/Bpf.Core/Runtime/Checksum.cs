using System.Buffers.Binary;

namespace Bpf.Runtime;

/// <summary>
/// The kernel's Internet-checksum arithmetic (include/net/checksum.h) on a little-endian host: 16-bit fields are
/// read as native integers and every sum uses end-around carry, so results match the kernel bit for bit.
/// </summary>
public static class Checksum
{
    /// <summary>csum_add: 32-bit one's-complement addition.</summary>
    public static uint Add(uint a, uint b)
    {
        var res = a + b;
        return res + (res < b ? 1u : 0u);
    }

    /// <summary>csum_sub.</summary>
    public static uint Sub(uint a, uint b) => Add(a, ~b);

    /// <summary>csum_fold: folds a 32-bit sum to 16 bits and complements it.</summary>
    public static ushort Fold(uint sum)
    {
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    private static ushort Add16(ushort csum, ushort addend)
    {
        var res = (ushort)(csum + addend);
        return (ushort)(res + (res < addend ? 1 : 0));
    }

    /// <summary>csum_replace2: patches a checksum for a 16-bit field change.</summary>
    public static ushort Replace2(ushort sum, ushort from, ushort to) =>
        (ushort)~Add16(Add16((ushort)~sum, (ushort)~from), to);

    /// <summary>csum_replace4: patches a checksum for a 32-bit field change.</summary>
    public static ushort Replace4(ushort sum, uint from, uint to) =>
        Fold(Add(Sub(~(uint)sum, from), to));

    /// <summary>csum_replace_by_diff: patches a checksum by a precomputed difference (from csum_diff).</summary>
    public static ushort ReplaceByDiff(ushort sum, uint diff) => Fold(Add(diff, ~(uint)sum));

    /// <summary>csum_partial: the 32-bit one's-complement sum of <paramref name="seed"/> and the little-endian 32-bit
    /// words of <paramref name="data"/> (length a multiple of 4), end-around carry (zero only when all inputs are zero).</summary>
    public static uint Partial(ReadOnlySpan<byte> data, uint seed)
    {
        ulong sum = seed;
        for (var i = 0; i + 4 <= data.Length; i += 4) sum += BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
        while ((sum >> 32) != 0) sum = (sum & 0xFFFFFFFF) + (sum >> 32);
        return (uint)sum;
    }

    /// <summary>
    /// bpf_csum_diff as Linux 6.12+ computes it on every architecture: the one's-complement sum of the words of
    /// <paramref name="to"/> minus those of <paramref name="from"/>, plus <paramref name="seed"/>, folded to 16 bits
    /// without complement (csum_from32to16). Lengths are multiples of 4.
    /// </summary>
    public static uint Diff(ReadOnlySpan<byte> from, ReadOnlySpan<byte> to, uint seed)
    {
        uint sum;
        if (!from.IsEmpty && !to.IsEmpty) sum = Sub(Partial(to, seed), Partial(from, 0));
        else if (!to.IsEmpty) sum = Partial(to, seed);
        else if (!from.IsEmpty) sum = ~Partial(from, ~seed);
        else sum = seed;
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return sum & 0xFFFF;
    }
}
