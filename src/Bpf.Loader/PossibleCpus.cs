using System.Globalization;

namespace Bpf.Loader;

/// <summary>
/// The possible CPUs (<c>/sys/devices/system/cpu/possible</c>): per-CPU maps hold one value slot for each,
/// which can be more than the online CPUs.
/// </summary>
public static class PossibleCpus
{
    private static readonly Lazy<int> CountLazy = new(() => Parse(File.ReadAllText("/sys/devices/system/cpu/possible")));

    /// <summary>The number of possible CPUs on this machine.</summary>
    public static int Count => CountLazy.Value;

    /// <summary>Parses a kernel CPU list such as <c>0-3</c> or <c>0,2-5,7</c>; returns highest index + 1.</summary>
    /// <exception cref="FormatException">The text is not a CPU list.</exception>
    public static int Parse(string list)
    {
        ArgumentNullException.ThrowIfNull(list);
        int max = -1;
        foreach (var part in list.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var range = part.Split('-');
            if (range.Length is < 1 or > 2 ||
                !int.TryParse(range[^1], NumberStyles.None, CultureInfo.InvariantCulture, out int hi) ||
                (range.Length == 2 && (!int.TryParse(range[0], NumberStyles.None, CultureInfo.InvariantCulture, out int lo) || lo > hi)))
                throw new FormatException($"not a CPU list: '{list.Trim()}' (at '{part}')");
            max = Math.Max(max, hi);
        }
        if (max < 0) throw new FormatException($"empty CPU list: '{list.Trim()}'");
        return max + 1;
    }
}
