using System.Runtime.CompilerServices;

namespace Bpf;

/// <summary>
/// Read-modify-write operations on translated host memory. Naturally aligned accesses use the hardware's
/// atomic instructions (so programs sharing input memory across threads see atomic updates); misaligned ones,
/// which eBPF permits but no CPU makes atomic portably, fall back to a plain read-modify-write.
/// Every method returns the old value.
/// </summary>
internal static unsafe class Atomics
{
    public static ulong Add64(byte* p, ulong v)
    {
        if (((nuint)p & 7) == 0) return (ulong)Interlocked.Add(ref *(long*)p, (long)v) - v;
        var old = Unsafe.ReadUnaligned<ulong>(p);
        Unsafe.WriteUnaligned(p, old + v);
        return old;
    }

    public static ulong Or64(byte* p, ulong v)
    {
        if (((nuint)p & 7) == 0) return Interlocked.Or(ref *(ulong*)p, v);
        var old = Unsafe.ReadUnaligned<ulong>(p);
        Unsafe.WriteUnaligned(p, old | v);
        return old;
    }

    public static ulong And64(byte* p, ulong v)
    {
        if (((nuint)p & 7) == 0) return Interlocked.And(ref *(ulong*)p, v);
        var old = Unsafe.ReadUnaligned<ulong>(p);
        Unsafe.WriteUnaligned(p, old & v);
        return old;
    }

    public static ulong Xor64(byte* p, ulong v)
    {
        if (((nuint)p & 7) == 0)
        {
            ref var cell = ref *(ulong*)p;
            ulong old;
            do { old = Volatile.Read(ref cell); } while (Interlocked.CompareExchange(ref cell, old ^ v, old) != old);
            return old;
        }
        var o = Unsafe.ReadUnaligned<ulong>(p);
        Unsafe.WriteUnaligned(p, o ^ v);
        return o;
    }

    public static ulong Xchg64(byte* p, ulong v)
    {
        if (((nuint)p & 7) == 0) return Interlocked.Exchange(ref *(ulong*)p, v);
        var old = Unsafe.ReadUnaligned<ulong>(p);
        Unsafe.WriteUnaligned(p, v);
        return old;
    }

    public static ulong CmpXchg64(byte* p, ulong v, ulong expected)
    {
        if (((nuint)p & 7) == 0) return Interlocked.CompareExchange(ref *(ulong*)p, v, expected);
        var old = Unsafe.ReadUnaligned<ulong>(p);
        if (old == expected) Unsafe.WriteUnaligned(p, v);
        return old;
    }

    public static uint Add32(byte* p, uint v)
    {
        if (((nuint)p & 3) == 0) return Interlocked.Add(ref *(uint*)p, v) - v;
        var old = Unsafe.ReadUnaligned<uint>(p);
        Unsafe.WriteUnaligned(p, old + v);
        return old;
    }

    public static uint Or32(byte* p, uint v)
    {
        if (((nuint)p & 3) == 0) return Interlocked.Or(ref *(uint*)p, v);
        var old = Unsafe.ReadUnaligned<uint>(p);
        Unsafe.WriteUnaligned(p, old | v);
        return old;
    }

    public static uint And32(byte* p, uint v)
    {
        if (((nuint)p & 3) == 0) return Interlocked.And(ref *(uint*)p, v);
        var old = Unsafe.ReadUnaligned<uint>(p);
        Unsafe.WriteUnaligned(p, old & v);
        return old;
    }

    public static uint Xor32(byte* p, uint v)
    {
        if (((nuint)p & 3) == 0)
        {
            ref var cell = ref *(uint*)p;
            uint old;
            do { old = Volatile.Read(ref cell); } while (Interlocked.CompareExchange(ref cell, old ^ v, old) != old);
            return old;
        }
        var o = Unsafe.ReadUnaligned<uint>(p);
        Unsafe.WriteUnaligned(p, o ^ v);
        return o;
    }

    public static uint Xchg32(byte* p, uint v)
    {
        if (((nuint)p & 3) == 0) return Interlocked.Exchange(ref *(uint*)p, v);
        var old = Unsafe.ReadUnaligned<uint>(p);
        Unsafe.WriteUnaligned(p, v);
        return old;
    }

    public static uint CmpXchg32(byte* p, uint v, uint expected)
    {
        if (((nuint)p & 3) == 0) return Interlocked.CompareExchange(ref *(uint*)p, v, expected);
        var old = Unsafe.ReadUnaligned<uint>(p);
        if (old == expected) Unsafe.WriteUnaligned(p, v);
        return old;
    }
}
