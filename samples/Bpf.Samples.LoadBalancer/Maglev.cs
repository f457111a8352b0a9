// Maglev hashing (Eisenbud et al., NSDI 2016): each backend has a permutation of the table's slots (an offset and a
// skip derived from its name); backends take turns claiming their next free slot. Every backend gets an almost equal
// share, and when one is removed or added, most slots keep their backend — so most flows stay where they were.
namespace Bpf.Samples.LoadBalancer;

public static class Maglev
{
    /// <summary>The table of <paramref name="size"/> slots (a prime) for these backends: slot -> backend id (0 when there are none).</summary>
    public static uint[] Populate(IReadOnlyList<(uint Id, string Name)> backends, int size)
    {
        var table = new uint[size];
        if (backends.Count == 0) return table;
        // Sorted by name, so the table depends on the set of backends, not on the order they were added in.
        var sorted = backends.OrderBy(b => b.Name, StringComparer.Ordinal).ToList();
        var offset = sorted.Select(b => (int)(Fnv(b.Name, 0x811c9dc5) % (uint)size)).ToArray();
        var skip = sorted.Select(b => (int)(Fnv(b.Name, 0x01000193) % (uint)(size - 1)) + 1).ToArray();
        var next = new int[sorted.Count];
        var filled = new bool[size];
        for (var n = 0; ;)
        {
            for (var i = 0; i < sorted.Count; i++)
            {
                int slot;
                do slot = (int)((offset[i] + (long)skip[i] * next[i]++) % size); while (filled[slot]);
                filled[slot] = true;
                table[slot] = sorted[i].Id;
                if (++n == size) return table;
            }
        }
    }

    // FNV-1a from a seed: a stable hash (string.GetHashCode differs between runs).
    private static uint Fnv(string s, uint seed)
    {
        var h = seed;
        foreach (var c in s)
        {
            h ^= c;
            h *= 16777619;
        }
        return h;
    }
}
