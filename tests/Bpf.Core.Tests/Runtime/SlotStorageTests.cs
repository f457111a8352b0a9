using Bpf.Runtime;

namespace Bpf.Core.Tests.Runtime;

/// <summary>
/// The storage under the hash maps and LPM tries, directly: <see cref="ValueSlots"/> (values at fixed addresses,
/// backed in chunks as a lazily allocated map grows) and <see cref="SlotTable"/> (the key index: growth keeps every
/// slot and the free ones, recency survives growth, keys of any length spread over the buckets).
/// </summary>
public sealed class SlotStorageTests
{
    [Fact]
    public void A_reservation_past_the_address_space_is_refused_naming_the_map_once()
    {
        // 64 KiB × 2^31 slots = 128 TiB, more than the collection's whole address space.
        var e = Assert.Throws<MapException>(() => new ValueSlots(new AddressSpace(), "huge", stride: 1 << 16, maxEntries: int.MaxValue, initialCapacity: 0, writable: true));
        Assert.Equal(MapError.NoMemory, e.Error);
        Assert.Equal("huge", e.MapName);
        Assert.StartsWith("map 'huge': create (the collection's virtual address space is exhausted) failed", e.Message);
    }

    [Fact]
    public void Value_slots_grow_in_chunks_and_every_slot_is_backed_once_at_its_fixed_address()
    {
        var slots = new ValueSlots(new AddressSpace(), "v", stride: 16, maxEntries: 1000, initialCapacity: 2, writable: true);
        slots.Grow(4);
        slots.Grow(4);   // no change: already backed
        slots.Grow(3);   // no change: never shrinks
        slots.Grow(9);
        Assert.Equal(9, slots.Capacity);
        var regions = slots.Regions.ToArray();
        Assert.Equal(new[] { 2 * 16, 2 * 16, 5 * 16 }, regions.Select(r => r.Length));
        Assert.Equal(new[] { slots.Address(0), slots.Address(2), slots.Address(4) }, regions.Select(r => r.Address));
        for (var i = 0; i < 9; i++)
        {
            Assert.True(slots.TrySlot(i, out var bytes), $"slot {i}");
            Assert.Equal(16, bytes.Length);
            bytes.Fill((byte)(i + 1));
            Assert.Equal((byte)(i + 1), slots.Slot(i)[15]);
            Assert.Equal(slots.Address(0) + (ulong)i * 16, slots.Address(i));
            var region = regions.Single(r => slots.Address(i) >= r.Address && slots.Address(i) < r.Address + (ulong)r.Length);
            Assert.All(region.Data.Slice((int)(slots.Address(i) - region.Address), 16).ToArray(), b => Assert.Equal(i + 1, b));
        }
        foreach (var outside in new[] { 9, 10, 999, 1000, -1, int.MaxValue })
        {
            Assert.False(slots.TrySlot(outside, out var none), $"slot {outside}");
            Assert.True(none.IsEmpty);
        }
        // Preallocated in one chunk: the same answers.
        var whole = new ValueSlots(new AddressSpace(), "w", stride: 8, maxEntries: 5, initialCapacity: 5, writable: false);
        Assert.False(Assert.Single(whole.Regions).Writable);
        Assert.True(whole.TrySlot(4, out var lastSlot));
        Assert.Equal(8, lastSlot.Length);
        Assert.False(whole.TrySlot(5, out _));
        Assert.False(whole.TrySlot(-1, out _));
    }

    [Fact]
    public void Value_slots_of_two_maps_never_overlap_however_far_they_grow()
    {
        // Several pages each: the reservation, not only its rounding to a page, keeps them apart.
        var space = new AddressSpace();
        var first = new ValueSlots(space, "first", stride: 24, maxEntries: 1000, initialCapacity: 1, writable: true);
        var second = new ValueSlots(space, "second", stride: 24, maxEntries: 1000, initialCapacity: 1, writable: true);
        first.Grow(1000);
        second.Grow(1000);
        var ranges = first.Regions.Concat(second.Regions).Select(r => (Start: r.Address, End: r.Address + (ulong)r.Length)).Order().ToArray();
        for (var i = 1; i < ranges.Length; i++) Assert.True(ranges[i - 1].End <= ranges[i].Start, $"regions overlap at 0x{ranges[i].Start:x}");
        Assert.True(first.Address(999) + 24 <= second.Address(0) || second.Address(999) + 24 <= first.Address(0));
    }

    [Fact]
    public void Value_slots_refuse_a_growth_whose_size_overflows_and_stay_as_they_were()
    {
        var slots = new ValueSlots(new AddressSpace(), "big", stride: 1 << 20, maxEntries: 1 << 12, initialCapacity: 1, writable: true);
        Assert.Throws<OverflowException>(() => slots.Grow(1 << 12));   // 4095 × 1 MiB: past int
        Assert.Equal(1, slots.Capacity);
        Assert.Single(slots.Regions);
    }

    private static byte[] K(uint v) => BitConverter.GetBytes(v);

    [Fact]
    public void A_table_keeps_its_keys_and_free_slots_when_it_grows()
    {
        var table = new SlotTable(4, 4, trackRecency: false);
        for (var k = 0u; k < 4; k++) Assert.Equal((int)k, table.Insert(K(k)));
        Assert.Equal(-1, table.Insert(K(99)));
        table.Remove(table.Find(K(1)));
        table.Remove(table.Find(K(2)));
        table.Grow(4);   // no change
        table.Grow(2);   // never shrinks
        Assert.Equal(4, table.Capacity);
        table.Grow(6);
        Assert.Equal(6, table.Capacity);
        Assert.Equal(2, table.Count);
        // The slots freed before the growth come first, then the new ones in order.
        var slots = Enumerable.Range(10, 4).Select(k => table.Insert(K((uint)k))).ToArray();
        Assert.Equal(new[] { 2, 1, 4, 5 }, slots);
        Assert.Equal(6, table.Count);
        Assert.Equal(-1, table.Insert(K(99)));
        foreach (var k in new uint[] { 0, 3, 10, 11, 12, 13 }) Assert.Equal(k, BitConverter.ToUInt32(table.KeyAt(table.Find(K(k)))));
        Assert.Equal(SlotTable.NotFound, table.Find(K(1)));
        var order = new List<uint>();
        for (var s = table.First; s >= 0; s = table.NextInOrder(s)) order.Add(BitConverter.ToUInt32(table.KeyAt(s)));
        Assert.Equal(new uint[] { 0, 3, 10, 11, 12, 13 }, order);
    }

    [Fact]
    public void A_table_created_empty_grows_and_fills_in_order()
    {
        var table = new SlotTable(4, 0, trackRecency: false);
        Assert.Equal(-1, table.Insert(K(1)));
        table.Grow(3);
        Assert.Equal(new[] { 0, 1, 2 }, new uint[] { 7, 8, 9 }.Select(k => table.Insert(K(k))));
        Assert.Equal(1, table.FindConcurrent(K(8)));
    }

    [Fact]
    public void Growth_beyond_the_int_range_of_the_key_array_throws_and_changes_nothing()
    {
        var table = new SlotTable(1 << 20, 1, trackRecency: false);
        var key = new byte[1 << 20];
        key[5] = 5;
        Assert.Equal(0, table.Insert(key));
        Assert.Throws<OverflowException>(() => table.Grow(1 << 12));
        Assert.Equal(1, table.Capacity);
        Assert.Equal(0, table.Find(key));
    }

    [Fact]
    public void Recency_survives_growth()
    {
        var table = new SlotTable(4, 2, trackRecency: true);
        table.Insert(K(1));
        table.Insert(K(2));
        table.Touch(table.Find(K(1)));   // 2, 1
        table.Grow(4);
        table.Insert(K(3));
        table.Insert(K(4));              // 2, 1, 3, 4
        table.Touch(table.Find(K(2)));   // 1, 3, 4, 2
        var evicted = new List<uint>();
        while (table.LeastRecent >= 0)
        {
            evicted.Add(BitConverter.ToUInt32(table.KeyAt(table.LeastRecent)));
            table.Remove(table.LeastRecent);
        }
        Assert.Equal(new uint[] { 1, 3, 4, 2 }, evicted);
        Assert.Equal(0, table.Count);
    }

    /// <summary>Keys that differ in one byte only, at any position and for any key length, spread over the buckets
    /// (the table uses the hash's low bits): never a handful of long chains.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(6)]
    [InlineData(8)]
    [InlineData(13)]
    public void Keys_differing_in_one_byte_spread_over_the_buckets(int keySize)
    {
        for (var position = 0; position < keySize; position++)
        {
            var buckets = new HashSet<uint>();
            var key = new byte[keySize];
            for (var b = 0; b < 256; b++)
            {
                key[position] = (byte)b;
                buckets.Add(SlotTable.Hash(key) & 255);
            }
            // 256 random keys in 256 buckets fill about 162 of them; a hash ignoring the byte fills 1.
            Assert.True(buckets.Count >= 128, $"key size {keySize}, byte {position}: {buckets.Count} buckets of 256");
        }
    }
}
