using Bpf.Btf;

namespace Bpf.Verifier.Internal;

internal sealed partial class Checker
{
    /// <summary>
    /// A load through a map pointer (the kernel's check_ptr_to_map_access): with the kernel's BTF a privileged
    /// program reads fields of the map's kernel struct (<c>struct bpf_array</c>, <c>struct bpf_htab</c>, ... whose
    /// first member is <c>struct bpf_map</c>), found by the kernel's btf_struct_walk. A scalar field loads an unknown
    /// scalar; a pointer field loads a BTF pointer (PTR_TO_BTF_ID, see Checker.BtfContext.cs).
    /// </summary>
    private RegState MapPointerAccess(int regno, in RegState reg, int insnOff, int size, bool write)
    {
        var map = _o.Maps[reg.Map];
        var btf = _o.KernelBtf;
        if (btf is null)
        {
            throw Fail(VerifierErrorCode.InvalidMemoryAccess, "map_ptr access not supported without CONFIG_DEBUG_INFO_BTF", regno);
        }
        var structName = KernelMapStruct(map.Type);
        if (structName is null || btf.FindType(structName, BtfKind.Struct) is not BtfComposite type)
        {
            // The kernel refuses map types without a map_btf_id; types this table does not list are not modelled.
            throw Fail(VerifierErrorCode.NotSupported, $"map_ptr access for map type {map.Type}: its kernel struct is not modelled by this verifier", regno);
        }
        if (!_allowPtrLeaks)
        {
            throw Fail(VerifierErrorCode.PermissionDenied, $"'struct {structName}' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN", regno);
        }
        var off = insnOff + reg.Off;
        if (off < 0)
        {
            throw Fail(VerifierErrorCode.InvalidMemoryAccess, $"R{regno} is {structName} invalid negative access: off={off}", regno);
        }
        if (write)
        {
            throw Fail(VerifierErrorCode.InvalidMemoryAccess, $"only read from {structName} is supported", regno);
        }
        var (result, message, pointee, owner, member) = StructWalk(type, off, size, out var throughUnion);
        return result switch
        {
            WalkResult.Scalar => RegState.Unknown,
            WalkResult.Pointer => WalkedPointer(btf, pointee, BtfTrust.Legacy, throughUnion, owner!, member!),
            _ => throw Fail(VerifierErrorCode.InvalidMemoryAccess, message!, regno),
        };
    }

    /// <summary>The kernel struct each map type's ops name as map_btf_id (6.18).</summary>
    private static string? KernelMapStruct(MapType type) => type switch
    {
        MapType.Array or MapType.PerCpuArray or MapType.ProgArray or MapType.PerfEventArray or MapType.CgroupArray or MapType.ArrayOfMaps => "bpf_array",
        MapType.Hash or MapType.PerCpuHash or MapType.LruHash or MapType.LruPerCpuHash or MapType.HashOfMaps => "bpf_htab",
        MapType.LpmTrie => "lpm_trie",
        MapType.RingBuf => "bpf_ringbuf_map",
        MapType.Queue or MapType.Stack => "bpf_queue_stack",
        _ => null,
    };

    private enum WalkResult { Scalar, Pointer, Error }

    /// <summary>The kernel's btf_struct_walk / btf_struct_access for a read of <paramref name="size"/> bytes at
    /// <paramref name="off"/>: nested structs are entered, arrays indexed, and the access must lie within one scalar
    /// member (or be exactly one pointer member, whose pointee type id is returned).</summary>
    private static (WalkResult Result, string? Message, uint PointeeId, string? Owner, string? Member) StructWalk(BtfComposite t, int off, int size)
        => StructWalk(t, off, size, out _);

    /// <summary>As <see cref="StructWalk(BtfComposite, int, int)"/>; <paramref name="throughUnion"/> tells whether the walk
    /// entered a union of more than one member (the kernel then marks a pointer it finds PTR_UNTRUSTED).</summary>
    private static (WalkResult Result, string? Message, uint PointeeId, string? Owner, string? Member) StructWalk(BtfComposite t, int off, int size, out bool throughUnion)
    {
        throughUnion = false;
        for (var depth = 0; depth < BtfSpec.MaxResolveDepth; depth++)
        {
            var tname = t.Name.Length == 0 ? "(anon)" : t.Name;
            if (t.IsUnion && t.Members.Count != 1) throughUnion = true;
            if (off + size > t.Size)
            {
                // Past the end, a last member that is a flexible array of integers is read as a scalar, and one of
                // structs is indexed (modulo its element).
                if (t.Members.Count > 0 && t.Members[^1] is var last && BtfSpec.Underlying(last.Type) is BtfArray { Count: 0 } flex
                    && off >= (int)last.ByteOffset)
                {
                    switch (BtfSpec.Underlying(flex.ElementType))
                    {
                        case BtfInt:
                            return (WalkResult.Scalar, null, 0, null, null);
                        case BtfComposite { Size: > 0 } elem:
                            off = (off - (int)last.ByteOffset) % (int)elem.Size;
                            t = elem;
                            continue;
                    }
                }
                return (WalkResult.Error, $"access beyond struct {tname} at off {off} size {size}", 0, null, null);
            }
            BtfComposite? inner = null;
            foreach (var m in t.Members)
            {
                var moff = (int)m.ByteOffset;
                if (off + size <= moff) break;
                if (m.BitfieldSize != 0)
                {
                    var endBit = m.BitOffset + m.BitfieldSize;
                    if (off <= moff && (endBit + 7) / 8 <= off + size) return (WalkResult.Scalar, null, 0, null, null);
                    continue;
                }
                if (off < moff) break;
                BtfType mtype = BtfSpec.Underlying(m.Type);
                long msize;
                try
                {
                    msize = (long)BtfSpec.SizeOf(mtype);
                }
                catch (BpfObjectException)
                {
                    return (WalkResult.Error, $"field {m.Name} doesn't have size", 0, null, null);
                }
                var mtrueEnd = moff + msize;
                if (off >= mtrueEnd) continue;
                if (mtype is BtfArray)
                {
                    if (moff == mtrueEnd) continue;
                    // Multi-dimensional arrays are linearised: the element is the innermost non-array type.
                    var elem = mtype;
                    long count = 1;
                    while (elem is BtfArray a)
                    {
                        count *= a.Count;
                        elem = BtfSpec.Underlying(a.ElementType);
                    }
                    var elemSize = msize / count;
                    moff += (int)((off - moff) / elemSize * elemSize);
                    msize = elemSize;
                    mtype = elem;
                }
                if (mtype is BtfComposite nested)
                {
                    inner = nested;
                    off -= moff;
                    break;
                }
                if (mtype is BtfPointer)
                {
                    if (msize != size || off != moff)
                    {
                        return (WalkResult.Error, $"cannot access ptr member {m.Name} with moff {moff} in struct {tname} with off {off} size {size}", 0, null, null);
                    }
                    return (WalkResult.Pointer, null, ((BtfPointer)mtype).TargetId, tname, m.Name);
                }
                // Within a union of several members the kernel's walk marks the access untrusted and lets it run past
                // the member (an integer of another member's bytes).
                if (off + size > mtrueEnd && !throughUnion)
                {
                    return (WalkResult.Error, $"access beyond the end of member {m.Name} (mend:{mtrueEnd}) in struct {tname} with off {off} size {size}", 0, null, null);
                }
                return (WalkResult.Scalar, null, 0, null, null);
            }
            if (inner is null)
            {
                return (WalkResult.Error, $"struct {tname} doesn't have field at offset {off}", 0, null, null);
            }
            t = inner;
        }
        return (WalkResult.Error, "struct nesting too deep", 0, null, null);
    }
}
