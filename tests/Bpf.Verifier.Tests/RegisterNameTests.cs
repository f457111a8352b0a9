using Bpf.Verifier.Internal;

namespace Bpf.Verifier.Tests;

/// <summary>
/// A register type's name in messages ("R1 type=… expected=…", "invalid mem access '…'") is the kernel's reg_type_str:
/// the prefixes of its flags in the kernel's order (rdonly_, ringbuf_, user_, percpu_, rcu_, untrusted_, trusted_), the
/// base type's name, then "_or_null" when it may be null ("or_null_" after "ptr_"). Each of our register types is
/// written here as the kernel's base type and flags, and its name composed as the kernel composes it.
/// </summary>
public sealed class RegisterNameTests
{
    [Flags]
    public enum KernelFlags
    {
        None = 0,
        MaybeNull = 1,
        Rdonly = 2,
        Ringbuf = 4,
        Percpu = 8,
        Rcu = 16,
        Untrusted = 32,
        Trusted = 64,
    }

    /// <summary>The kernel's reg_type_str composition.</summary>
    private static string KernelName(string baseName, KernelFlags f)
    {
        var prefix = (f.HasFlag(KernelFlags.Rdonly) ? "rdonly_" : "") + (f.HasFlag(KernelFlags.Ringbuf) ? "ringbuf_" : "")
            + (f.HasFlag(KernelFlags.Percpu) ? "percpu_" : "") + (f.HasFlag(KernelFlags.Rcu) ? "rcu_" : "")
            + (f.HasFlag(KernelFlags.Untrusted) ? "untrusted_" : "") + (f.HasFlag(KernelFlags.Trusted) ? "trusted_" : "");
        var postfix = f.HasFlag(KernelFlags.MaybeNull) ? (baseName == "ptr_" ? "or_null_" : "_or_null") : "";
        return prefix + baseName + postfix;
    }

    /// <summary>Our type (with its trust, and whether it holds a reference) as the kernel's base type and flags.</summary>
    private static readonly (RegType Type, int Trust, bool Referenced, string KernelBase, KernelFlags Flags)[] Types =
    [
        (RegType.NotInit, 0, false, "?", KernelFlags.None),
        (RegType.Scalar, 0, false, "scalar", KernelFlags.None),
        (RegType.Ctx, 0, false, "ctx", KernelFlags.None),
        (RegType.Stack, 0, false, "fp", KernelFlags.None),
        (RegType.MapValue, 0, false, "map_value", KernelFlags.None),
        (RegType.MapValueOrNull, 0, false, "map_value", KernelFlags.MaybeNull),
        (RegType.MapPtr, 0, false, "map_ptr", KernelFlags.None),
        // An inner map's lookup result: the kernel types it map_value_or_null until the null check.
        (RegType.MapPtrOrNull, 0, false, "map_value", KernelFlags.MaybeNull),
        (RegType.Packet, 0, false, "pkt", KernelFlags.None),
        (RegType.PacketMeta, 0, false, "pkt_meta", KernelFlags.None),
        (RegType.PacketEnd, 0, false, "pkt_end", KernelFlags.None),
        (RegType.Mem, 0, false, "mem", KernelFlags.None),
        (RegType.Mem, 0, true, "mem", KernelFlags.Ringbuf),
        (RegType.MemOrNull, 0, false, "mem", KernelFlags.MaybeNull),
        (RegType.MemOrNull, 0, true, "mem", KernelFlags.Ringbuf | KernelFlags.MaybeNull),
        (RegType.SockCommonOrNull, 0, false, "sock_common", KernelFlags.MaybeNull),
        (RegType.MapKey, 0, false, "map_key", KernelFlags.None),
        (RegType.Func, 0, false, "func", KernelFlags.None),
        (RegType.BtfPointer, BtfTrust.Legacy, false, "ptr_", KernelFlags.None),
        (RegType.BtfPointer, BtfTrust.Trusted, false, "ptr_", KernelFlags.Trusted),
        (RegType.BtfPointer, BtfTrust.Untrusted, false, "ptr_", KernelFlags.Untrusted),
        (RegType.BtfPointer, BtfTrust.Percpu, false, "ptr_", KernelFlags.Percpu),
        (RegType.BtfPointer, BtfTrust.Rcu, false, "ptr_", KernelFlags.Rcu),
        (RegType.BtfPointerOrNull, BtfTrust.Legacy, false, "ptr_", KernelFlags.MaybeNull),
        (RegType.BtfPointerOrNull, BtfTrust.Trusted, false, "ptr_", KernelFlags.Trusted | KernelFlags.MaybeNull),
        (RegType.BtfPointerOrNull, BtfTrust.Rcu, false, "ptr_", KernelFlags.Rcu | KernelFlags.MaybeNull),
        (RegType.RdonlyMem, 0, false, "mem", KernelFlags.Rdonly),
        (RegType.RdonlyMemOrNull, 0, false, "mem", KernelFlags.Rdonly | KernelFlags.MaybeNull),
    ];

    [Fact]
    public void Every_register_type_is_named_as_the_kernel_composes_it()
    {
        var wrong = new List<string>();
        foreach (var (type, trust, referenced, kernelBase, flags) in Types)
        {
            var reg = RegState.Pointer(type);
            reg.Map = trust;
            if (referenced) reg.RefId = 1;
            var expected = KernelName(kernelBase, flags);
            if (reg.TypeName != expected) wrong.Add($"{type} (trust {trust}{(referenced ? ", referenced" : "")}): ours '{reg.TypeName}', the kernel's '{expected}'");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        // Every type is in the table: a new one needs its kernel name.
        var missing = Enum.GetValues<RegType>().Where(t => Types.All(x => x.Type != t)).ToList();
        Assert.True(missing.Count == 0, $"register types without a kernel name here: {string.Join(", ", missing)}");
    }

    [Fact]
    public void The_composition_is_the_kernels()
    {
        // Spot checks of the composition itself, from the kernel's own messages.
        Assert.Equal("trusted_ptr_or_null_", KernelName("ptr_", KernelFlags.Trusted | KernelFlags.MaybeNull));
        Assert.Equal("ringbuf_mem_or_null", KernelName("mem", KernelFlags.Ringbuf | KernelFlags.MaybeNull));
        Assert.Equal("rdonly_mem", KernelName("mem", KernelFlags.Rdonly));
        Assert.Equal("map_value_or_null", KernelName("map_value", KernelFlags.MaybeNull));
    }
}
