
namespace Bpf.Runtime;

/// <summary>
/// Registers user helpers with a typed signature: plain functions of 0 to 5 integer arguments returning r0. For
/// helpers that read or write program memory, register a <see cref="HelperFunction"/> and use
/// <see cref="HelperContext.TryGetMemory"/>; <see cref="RegisterMemoryHelper"/> covers the common
/// (pointer, size) shape.
/// </summary>
public static class TypedHelpers
{
    /// <summary>Registers <c>u64 name(void)</c>.</summary>
    public static HelperRegistry Register(this HelperRegistry registry, int id, string name, Func<ulong> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return registry.Register(id, name, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => function());
    }

    /// <summary>Registers <c>u64 name(u64)</c>.</summary>
    public static HelperRegistry Register(this HelperRegistry registry, int id, string name, Func<ulong, ulong> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return registry.Register(id, name, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => function(r1));
    }

    /// <summary>Registers <c>u64 name(u64, u64)</c>.</summary>
    public static HelperRegistry Register(this HelperRegistry registry, int id, string name, Func<ulong, ulong, ulong> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return registry.Register(id, name, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => function(r1, r2));
    }

    /// <summary>Registers <c>u64 name(u64, u64, u64)</c>.</summary>
    public static HelperRegistry Register(this HelperRegistry registry, int id, string name, Func<ulong, ulong, ulong, ulong> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return registry.Register(id, name, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => function(r1, r2, r3));
    }

    /// <summary>Registers <c>u64 name(u64, u64, u64, u64)</c>.</summary>
    public static HelperRegistry Register(this HelperRegistry registry, int id, string name, Func<ulong, ulong, ulong, ulong, ulong> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return registry.Register(id, name, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => function(r1, r2, r3, r4));
    }

    /// <summary>Registers <c>u64 name(u64, u64, u64, u64, u64)</c>.</summary>
    public static HelperRegistry Register(this HelperRegistry registry, int id, string name, Func<ulong, ulong, ulong, ulong, ulong, ulong> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return registry.Register(id, name, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => function(r1, r2, r3, r4, r5));
    }

    /// <summary>A helper over program memory: <c>long name(void *buf, u32 size, u64 arg)</c>.</summary>
    public delegate long MemoryHelper(Span<byte> buffer, ulong argument);

    /// <summary>Registers <c>long name(void *buf, u32 size, u64 arg)</c>: r1/r2 are checked like the program's own
    /// accesses (writable when <paramref name="writable"/>) and handed over as a span.</summary>
    public static HelperRegistry RegisterMemoryHelper(this HelperRegistry registry, int id, string name, bool writable, MemoryHelper function)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(function);
        return registry.Register(id, name, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) =>
        {
            if (r2 > int.MaxValue)
            {
                c.Fail($"size {r2} is too large");
                return 0;
            }
            return c.TryGetMemory(r1, (int)r2, writable, out var buffer) ? unchecked((ulong)function(buffer, r3)) : 0;
        });
    }
}
