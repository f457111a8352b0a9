namespace Bpf.Verifier.Internal;

/// <summary>
/// Decides whether a stored state covers the current one (every behaviour from the current state was
/// already explored from the stored one), or, for loop detection, whether the two are identical.
/// Register ids are compared through a consistent mapping, as two states may number them differently.
/// </summary>
internal static class StateCompare
{
    public static bool Equal(VState old, VState cur, bool exact, Checker checker, ushort need)
    {
        var ids = checker.IdMap;
        ids.Clear();
        if (old.Speculative != cur.Speculative && (exact || old.Speculative)) return false;
        if ((old.Refs?.Count ?? 0) != (cur.Refs?.Count ?? 0)) return false;
        // The lock held (the kernel's refsafe: the same map, ids matched like register ids).
        if (old.LockMap != cur.LockMap || (old.HoldsLock && !SameId(ids, old.LockId, cur.LockId))) return false;
        if (old.RcuLock != cur.RcuLock) return false;
        if (old.Refs is not null && cur.Refs is not null)
        {
            for (var i = 0; i < old.Refs.Count; i++)
            {
                if (!MapId(ids, old.Refs[i].Id, cur.Refs[i].Id)) return false;
            }
        }
        for (var f = 0; f <= old.CurFrame; f++)
        {
            var fo = old.Frames[f];
            var fc = cur.Frames[f];
            for (var r = 0; r < 11; r++)
            {
                // A scalar whose value cannot matter any more matches any scalar (see Precision).
                if (!exact && f == 0 && old.CurFrame == 0 && (need & (1 << r)) == 0
                    && fo.Regs[r].Type == RegType.Scalar && fc.Regs[r].Type == RegType.Scalar
                    && (fo.Regs[r].Id == 0 || MapId(ids, fo.Regs[r].Id, fc.Regs[r].Id)))
                {
                    continue;
                }
                if (!RegSafe(fo.Regs[r], fc.Regs[r], exact, ids)) return false;
            }
            if (!StackSafe(fo, fc, exact, checker.AllowUninitStack, ids)) return false;
        }
        return true;
    }

    private static bool MapId(Dictionary<int, int> ids, int oldId, int curId)
    {
        if (oldId == 0) return true;
        if (curId == 0) return false;
        if (ids.TryGetValue(oldId, out var mapped)) return mapped == curId;
        ids[oldId] = curId;
        return true;
    }

    /// <summary>The kernel's check_ids: both zero, or both set and consistently mapped.</summary>
    private static bool SameId(Dictionary<int, int> ids, int oldId, int curId) =>
        (oldId == 0) == (curId == 0) && MapId(ids, oldId, curId);

    private static bool RegSafe(in RegState o, in RegState c, bool exact, Dictionary<int, int> ids)
    {
        if (o.Type == RegType.NotInit) return !exact || c.Type == RegType.NotInit;
        if (o.Type != c.Type) return false;
        if (exact)
        {
            return o.Off == c.Off && o.Range == c.Range && o.Map == c.Map && o.Frame == c.Frame && o.V.SameAs(c.V)
                   && MapId(ids, o.Id, c.Id) && MapId(ids, o.RefId, c.RefId);
        }
        switch (o.Type)
        {
            case RegType.Scalar:
                // Linked scalars also carry their constant delta (Off): the same link with another delta is not covered.
                return o.V.Contains(c.V) && (o.Id == 0 || (MapId(ids, o.Id, c.Id) && o.Off == c.Off));
            case RegType.Packet:
            case RegType.PacketMeta:
                return o.Off == c.Off && o.Range <= c.Range && o.V.Contains(c.V) && MapId(ids, o.Id, c.Id);
            case RegType.MapValueOrNull:
            case RegType.MapPtrOrNull:
            case RegType.MemOrNull:
            case RegType.SockCommonOrNull:
            case RegType.BtfPointerOrNull:
            case RegType.RdonlyMemOrNull:
                return o.Off == c.Off && o.Map == c.Map && o.Range == c.Range && o.V.SameAs(c.V)
                       && MapId(ids, o.Id, c.Id) && MapId(ids, o.RefId, c.RefId);
            case RegType.MapValue:
                // Map values keep their id only when the value holds a bpf_spin_lock: it names the locked element.
                return o.Off == c.Off && o.Map == c.Map && o.V.Contains(c.V) && SameId(ids, o.Id, c.Id);
            default:
                return o.Off == c.Off && o.Map == c.Map && o.Range == c.Range && o.Frame == c.Frame && o.V.Contains(c.V)
                       && MapId(ids, o.RefId, c.RefId);
        }
    }

    private static bool StackSafe(Frame o, Frame c, bool exact, bool allowUninit, Dictionary<int, int> ids)
    {
        // The stack grows down from index 511: below the old state's lowest used byte there is nothing to compare
        // (an Invalid old byte accepts anything), and exactly equal byte types need no byte-by-byte walk.
        int first;
        if (exact)
        {
            if (!o.Bytes.SequenceEqual(c.Bytes)) return false;
            first = o.Bytes.IndexOfAnyExcept(SlotType.Invalid);
        }
        else
        {
            first = o.Bytes.IndexOfAnyExcept(SlotType.Invalid);
        }
        if (first < 0) return true;
        for (var b = first; b < Frame.StackSize; b++)
        {
            var ot = o.Bytes[b];
            var ct = c.Bytes[b];
            if (exact)
            {
                if (ot != ct) return false;
                continue;
            }
            if (ot == SlotType.Invalid) continue;
            if (ot == SlotType.Misc && (allowUninit || ct is SlotType.Misc or SlotType.Zero)) continue;
            if (ot == SlotType.Misc && ct == SlotType.Spill && c.Spill(b / 8).Type == RegType.Scalar) continue;
            if (ot != ct) return false;
        }
        for (var s = first / 8; s < Frame.Slots; s++)
        {
            if (o.Bytes[s * 8] != SlotType.Spill) continue;
            if (c.Bytes[s * 8] != SlotType.Spill) continue; // already accepted above (misc-compatible) or rejected
            if (!RegSafe(o.Spill(s), c.Spill(s), exact, ids)) return false;
        }
        return true;
    }
}
