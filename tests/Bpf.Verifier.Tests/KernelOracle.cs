using System.Runtime.InteropServices;
using Bpf.Loader;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>The kernel's verdict on one program.</summary>
public sealed record KernelVerdict(bool Accepted, string Message, int Errno, bool SetupFailed = false);

/// <summary>
/// Loads programs into the running kernel with BPF_PROG_LOAD and reports its verdict. Privileged loads run on
/// the test thread (root); CAP_BPF-only loads run on a dedicated thread whose effective capability set has
/// CAP_SYS_ADMIN and CAP_PERFMON removed (Linux capabilities are per thread, so the rest of the process keeps
/// them). Fully unprivileged loads are impossible while kernel.unprivileged_bpf_disabled is non-zero.
/// </summary>
public static unsafe class KernelOracle
{
    public static bool Required => Need.KernelRequired;

    /// <summary>Kept for callers written before <see cref="Need.Kernel"/>: skips the test with the reason (or fails
    /// under BPFNET_REQUIRE_KERNEL=1) when the kernel is unavailable; returns true otherwise. Never "passes" a
    /// test that did not check. New code calls <see cref="Need.Kernel"/>.</summary>
    public static bool Available(Action<string> print)
    {
        _ = print;
        Need.Kernel();
        return true;
    }

    /// <summary>Loads each program (instructions with map-index references, maps, type) and returns the verdicts.</summary>
    public static KernelVerdict[] LoadAll(IReadOnlyList<(Instruction[] Insns, IReadOnlyList<MapDefinition> Maps, ProgramType Type)> programs, PrivilegeMode mode)
    {
        if (mode == PrivilegeMode.Unprivileged)
        {
            throw new NotSupportedException("fully unprivileged loads need kernel.unprivileged_bpf_disabled=0; not tested");
        }
        var results = new KernelVerdict[programs.Count];
        if (mode == PrivilegeMode.Privileged)
        {
            for (var i = 0; i < programs.Count; i++) results[i] = Load(programs[i].Insns, programs[i].Maps, programs[i].Type);
            return results;
        }
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                DropCapabilities(CapSysAdmin, CapPerfmon);
                for (var i = 0; i < programs.Count; i++) results[i] = Load(programs[i].Insns, programs[i].Maps, programs[i].Type);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }, 16 * 1024 * 1024);
        thread.Start();
        thread.Join();
        if (failure is not null) throw new InvalidOperationException("CAP_BPF-only load thread failed", failure);
        return results;
    }

    public static KernelVerdict Load(Instruction[] insns, IReadOnlyList<MapDefinition> maps, ProgramType type)
    {
        var created = new List<BpfMap>();
        try
        {
            foreach (var m in maps)
            {
                try
                {
                    created.Add(BpfMap.Create(new MapCreateSpec
                {
                    Type = m.Type,
                    KeySize = (uint)m.KeySize,
                    ValueSize = (uint)m.ValueSize,
                    MaxEntries = (uint)m.MaxEntries,
                    Flags = (MapFlags)m.Flags,
                    }));
                }
                catch (BpfSyscallException e)
                {
                    // Not a verifier verdict: the map itself cannot be created here.
                    return new KernelVerdict(false, $"map '{m.Name}' not created: {e.Message}", e.Errno, SetupFailed: true);
                }
            }
            var relocs = new List<MapRelocation>();
            for (var i = 0; i + 1 < insns.Length; i++)
            {
                if (!insns[i].IsWide) continue;
                var src = (PseudoSource)insns[i].SrcRaw;
                if (src is PseudoSource.MapIndex or PseudoSource.MapIndexValue && (uint)insns[i].Imm < (uint)created.Count)
                {
                    relocs.Add(new MapRelocation(i, created[insns[i].Imm], src == PseudoSource.MapIndexValue, (uint)insns[i + 1].Imm));
                }
                i++;
            }
            if (insns.Length == 0) return new KernelVerdict(false, "empty program", 22);
            using var prog = BpfProgram.Load(type, insns, "GPL", new LoadOptions { MapRelocations = relocs });
            return new KernelVerdict(true, "", 0);
        }
        catch (VerifierException e)
        {
            return new KernelVerdict(false, Summary(e.Log, e.Message), e.Errno);
        }
        catch (BpfSyscallException e)
        {
            return new KernelVerdict(false, $"{e.ErrnoName}: {e.Message}", e.Errno);
        }
        finally
        {
            foreach (var m in created) m.Dispose();
        }
    }

    /// <summary>The error line(s) of a verifier log: the last lines before the statistics.</summary>
    private static string Summary(string log, string fallback)
    {
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith("processed ", StringComparison.Ordinal) && !l.StartsWith("verification time", StringComparison.Ordinal)
                        && !l.StartsWith("stack depth", StringComparison.Ordinal)
                        // "infinite loop detected at insn N" is followed by the two states it compared.
                        && !l.StartsWith("cur state:", StringComparison.Ordinal) && !l.StartsWith("old state:", StringComparison.Ordinal))
            .ToArray();
        return lines.Length == 0 ? fallback : lines[^1];
    }

    // ---- per-thread capabilities --------------------------------------------------------------------

    private const int CapNetAdmin = 12, CapSysAdmin = 21, CapPerfmon = 38, CapBpf = 39;
    private const uint LinuxCapabilityVersion3 = 0x20080522;

    [StructLayout(LayoutKind.Sequential)]
    private struct CapHeader
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapData
    {
        public uint Effective, Permitted, Inheritable;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int capget(CapHeader* header, CapData* data);

    [DllImport("libc", SetLastError = true)]
    private static extern int capset(CapHeader* header, CapData* data);

    /// <summary>Removes capabilities from the calling thread's effective set (the raw syscall wrapper is per thread).</summary>
    private static void DropCapabilities(params int[] caps)
    {
        var h = new CapHeader { Version = LinuxCapabilityVersion3, Pid = 0 };
        var d = stackalloc CapData[2];
        if (capget(&h, d) != 0) throw new InvalidOperationException($"capget failed: errno {Marshal.GetLastPInvokeError()}");
        foreach (var c in caps) d[c / 32].Effective &= ~(1u << (c % 32));
        h.Version = LinuxCapabilityVersion3;
        if (capset(&h, d) != 0) throw new InvalidOperationException($"capset failed: errno {Marshal.GetLastPInvokeError()}");
        if (capget(&h, d) != 0) throw new InvalidOperationException("capget failed");
        foreach (var c in caps)
        {
            if ((d[c / 32].Effective & (1u << (c % 32))) != 0) throw new InvalidOperationException($"capability {c} still effective");
        }
        if ((d[CapBpf / 32].Effective & (1u << (CapBpf % 32))) == 0 || (d[CapNetAdmin / 32].Effective & (1u << (CapNetAdmin % 32))) == 0)
        {
            throw new InvalidOperationException("CAP_BPF or CAP_NET_ADMIN missing; the CAP_BPF-only mode needs both");
        }
    }
}
