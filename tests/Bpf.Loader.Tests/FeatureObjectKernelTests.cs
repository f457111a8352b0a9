using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Bpf.Tests;

namespace Bpf.Loader.Tests;

/// <summary>The feature objects (tests/Bpf.Core.Tests/programs/features) against the real kernel.</summary>
public sealed class FeatureObjectKernelTests : KernelTest
{
    private static ObjectSpec Read(string name) => ObjectSpec.ReadFile(RepoPaths.FeatureObject(name));

    [KernelFact]
    public void Ring_buffer_and_perf_array_sizes_are_fixed_up_as_the_kernel_requires()
    {
        var spec = Read("map_fixups");
        // As written, the kernel refuses both maps: the fix-up is what makes the object load.
        foreach (var name in new[] { "events", "perf", "perf_typed" })
        {
            var m = spec.Map(name)!;
            var asWritten = new MapCreateSpec { Type = m.Type, KeySize = m.KeySize, ValueSize = m.ValueSize, MaxEntries = m.MaxEntries };
            var refused = Assert.ThrowsAny<BpfSyscallException>(() => BpfMap.Create(asWritten).Dispose());
            Assert.Equal("EINVAL", refused.ErrnoName);
        }
        using var c = KernelCollection.Load(spec);
        Assert.Equal((0u, 0u, 4096u), (c.Maps["events"].KeySize, c.Maps["events"].ValueSize, c.Maps["events"].MaxEntries));
        Assert.Equal((4u, 4u, (uint)PossibleCpus.Count), (c.Maps["perf"].KeySize, c.Maps["perf"].ValueSize, c.Maps["perf"].MaxEntries));
        Assert.Equal((4u, 4u, Math.Min(2u, (uint)PossibleCpus.Count)), (c.Maps["perf_typed"].KeySize, c.Maps["perf_typed"].ValueSize, c.Maps["perf_typed"].MaxEntries));
        Assert.Equal(ProgramType.SocketFilter, c.Programs["emit"].Type);
    }

    [KernelFact]
    public void Section_names_in_the_wild_load_as_their_program_types()
    {
        using var c = KernelCollection.Load(Read("sections"));
        Assert.Equal(ProgramType.SocketFilter, c.Programs["sock_one"].Type);
        Assert.Equal(ProgramType.SkLookup, c.Programs["lookup"].Type);
        Assert.Equal(ProgramType.Xdp, c.Programs["xdp_legacy"].Type);
        Assert.Equal(7u, c.Run("tail", new byte[64]).ReturnValue); // calls subprograms in sections "static" and "other"
        Assert.Equal(4, c.Programs.Count);
    }

    [KernelFact]
    public void Struct_ops_maps_are_refused_with_a_clear_not_supported_naming_the_map()
    {
        var ex = Assert.Throws<BpfNotSupportedException>(() => KernelCollection.Load(Read("struct_ops")).Dispose());
        Assert.Contains("struct_ops map 'bpfnet_cc'", ex.Message);
        Assert.Contains("init=cc_init", ex.Message);
    }

    // The kernel's configuration as the test reads it, independently of the loader (the same two files libbpf reads).
    private static Dictionary<string, string> KernelConfig()
    {
        var boot = $"/boot/config-{File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}";
        IEnumerable<string> lines;
        if (File.Exists(boot)) lines = File.ReadAllLines(boot);
        else if (File.Exists("/proc/config.gz"))
        {
            using var gz = new GZipStream(File.OpenRead("/proc/config.gz"), CompressionMode.Decompress);
            lines = new StreamReader(gz).ReadToEnd().Split('\n');
        }
        else
        {
            Assert.Skip($"this kernel exposes no configuration ({boot}, /proc/config.gz): strong CONFIG_ externs cannot resolve");
            return [];
        }
        return lines.Where(l => l.StartsWith("CONFIG_", StringComparison.Ordinal) && l.Contains('='))
            .ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..], StringComparer.Ordinal);
    }

    private static byte[] RunAndReadSeen(KernelCollection c)
    {
        Assert.Equal(0u, c.Run("read_config", new byte[64]).ReturnValue);
        return c.ReadVariable("seen");
    }

    [KernelFact]
    public void Kconfig_externs_take_the_running_kernels_configuration_as_libbpf_sets_them()
    {
        var config = KernelConfig();
        using var c = KernelCollection.Load(Read("kconfig"));
        Assert.True(c.HasBtf, c.BtfDiagnostic);
        var seen = RunAndReadSeen(c);
        uint U32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(seen.AsSpan(at));

        var release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim().Split('.', '-');
        uint version = (uint.Parse(release[0], CultureInfo.InvariantCulture) << 16) + (uint.Parse(release[1], CultureInfo.InvariantCulture) << 8)
            + Math.Min(255u, uint.Parse(new string(release[2].TakeWhile(char.IsDigit).ToArray()), CultureInfo.InvariantCulture));
        Assert.Equal(version, U32(0));
        Assert.Equal(config.GetValueOrDefault("CONFIG_BPF_SYSCALL") == "y" ? 1u : 0u, U32(4)); // bool
        Assert.Equal(config.GetValueOrDefault("CONFIG_BPF_JIT") switch { "y" => 1u, "m" => 2u, _ => 0u }, U32(8)); // tristate
        Assert.Equal(config.TryGetValue("CONFIG_HZ", out var hz) ? uint.Parse(hz, CultureInfo.InvariantCulture) : 0u, U32(12)); // int, weak
        Assert.Equal(config.TryGetValue("CONFIG_BPF_LSM", out var lsm) ? (uint)lsm[0] : 0u, U32(16)); // char: the letter itself
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(seen.AsSpan(24))); // weak, set nowhere
        var local = config.TryGetValue("CONFIG_LOCALVERSION", out var lv) ? lv.Trim('"') : "";
        if (local.Length > 15) local = local[..15]; // truncated to the array, NUL-terminated
        Assert.Equal(local, Encoding.ASCII.GetString(seen, 32, 16).TrimEnd('\0'));
        Assert.Contains(c.Diagnostics, d => d.Contains("CONFIG_BPFNET_NO_SUCH_OPTION", StringComparison.Ordinal) && d.Contains("left 0", StringComparison.Ordinal));
        Assert.Equal(Read("kconfig").KconfigSize, c.Maps[ObjectSpec.KconfigMapName].ValueSize);
    }

    [KernelFact]
    public void Kconfig_option_text_comes_before_the_kernels_own_configuration()
    {
        KernelConfig();
        using var c = KernelCollection.Load(Read("kconfig"), new KernelCollectionOptions { Kconfig = "CONFIG_HZ=0x3e8\nCONFIG_BPF_LSM=m\nCONFIG_BPF_JIT=m\nCONFIG_LOCALVERSION=\"-a-string-longer-than-sixteen\"" });
        var seen = RunAndReadSeen(c);
        Assert.Equal(1000u, BinaryPrimitives.ReadUInt32LittleEndian(seen.AsSpan(12)));
        Assert.Equal((uint)'m', BinaryPrimitives.ReadUInt32LittleEndian(seen.AsSpan(16)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(seen.AsSpan(8)));
        Assert.Equal("-a-string-longe", Encoding.ASCII.GetString(seen, 32, 16).TrimEnd('\0'));
        Assert.Contains(c.Diagnostics, d => d.Contains("CONFIG_LOCALVERSION", StringComparison.Ordinal) && d.Contains("truncated", StringComparison.Ordinal));
    }

    [KernelFact]
    public void A_kconfig_value_its_type_cannot_hold_fails_the_program_naming_the_extern()
    {
        KernelConfig();
        var ex = Assert.Throws<ExternResolutionException>(() =>
            KernelCollection.Load(Read("kconfig"), new KernelCollectionOptions { Kconfig = "CONFIG_BPF_SYSCALL=m" }).Dispose());
        Assert.Equal("CONFIG_BPF_SYSCALL", ex.ExternName);
        Assert.Contains("program 'read_config'", ex.Message);
        Assert.Contains("'m'", ex.Message);
    }

    [KernelFact]
    public void Ksym_variables_and_kfuncs_resolve_against_the_kernels_btf_and_kallsyms()
    {
        using var c = KernelCollection.Load(Read("ksyms"), new KernelCollectionOptions { SkipFailedPrograms = true });
        // The extern declarations in the object's BTF do not cost it its BTF (the kernel refuses extern linkage as is).
        Assert.True(c.HasBtf, c.BtfDiagnostic);
        Assert.DoesNotContain(c.Diagnostics, d => d.Contains("sanitised", StringComparison.Ordinal));
        // A typed __ksym becomes lddw BPF_PSEUDO_BTF_ID; the kernel then needs the variable's address in kallsyms,
        // which lists data symbols only with CONFIG_KALLSYMS_ALL (libbpf meets the same refusal).
        bool dataInKallsyms = File.ReadLines("/proc/kallsyms").Any(l => l.EndsWith(" bpf_prog_active", StringComparison.Ordinal));
        if (dataInKallsyms)
        {
            Assert.Equal(1u, c.Run("typed_variable", new byte[64]).ReturnValue);
        }
        else
        {
            var refused = Assert.IsType<ProgramRejectedException>(c.FailedPrograms["typed_variable"]);
            Assert.Contains("ldimm64 failed to find the address for kernel symbol 'bpf_prog_active'", refused.Message);
        }
        Assert.Equal(0u, c.Run("typeless_symbol", new byte[64]).ReturnValue);
        var line = File.ReadLines("/proc/kallsyms").FirstOrDefault(l => l.EndsWith(" bpf_fentry_test1", StringComparison.Ordinal));
        if (line is null) Assert.Skip("this kernel's /proc/kallsyms has no bpf_fentry_test1");
        Assert.Equal(ulong.Parse(line[..line.IndexOf(' ')], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            BinaryPrimitives.ReadUInt64LittleEndian(c.ReadVariable("typeless_address")));
        Assert.Equal(5u, c.Run("weak_variable", new byte[64]).ReturnValue); // weak, absent: its address is 0
        Assert.Equal(1u, c.Run("kfunc_calls", new byte[64]).ReturnValue); // bpf_cast_to_kern_ctx(skb)->len == skb->len
        Assert.Equal(3u, c.Run("weak_kfunc_guarded", new byte[64]).ReturnValue); // bpf_ksym_exists is false: the poisoned call is dead code

        // Reachable, the poisoned call is what the kernel rejects; the strong missing kfunc is refused before loading.
        var poisoned = Assert.IsType<ProgramRejectedException>(c.FailedPrograms["weak_kfunc_called"]);
        int externIndex = c.Spec.Externs.ToList().FindIndex(e => e.Name == "bpfnet_no_such_kfunc");
        Assert.Contains($"invalid func unknown#{KernelSymbolLinker.PoisonKfuncBase + externIndex}", poisoned.Log);
        var strong = Assert.IsType<ExternResolutionException>(c.FailedPrograms["strong_kfunc_missing"]);
        Assert.Equal("bpfnet_strong_missing_kfunc", strong.ExternName);
        Assert.Contains("kfunc 'bpfnet_strong_missing_kfunc' (strong) is not a function of the kernel's BTF", strong.Message);
        Assert.Equal(dataInKallsyms ? ["strong_kfunc_missing", "weak_kfunc_called"] : ["strong_kfunc_missing", "typed_variable", "weak_kfunc_called"],
            c.FailedPrograms.Keys.Order(StringComparer.Ordinal));
    }

    [KernelFact]
    public void A_strong_kfunc_the_kernel_lacks_fails_the_load_naming_it()
    {
        var ex = Assert.Throws<ExternResolutionException>(() => KernelCollection.Load(Read("ksyms")).Dispose());
        Assert.Equal("bpfnet_strong_missing_kfunc", ex.ExternName);
    }

    [KernelFact]
    public void Virtual_kconfig_externs_are_probed_from_the_running_kernel()
    {
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
            Assert.Skip("the syscall wrapper expectation below is written for x86-64 (__x64_sys_bpf)");
        // What the kernel says, read independently: the helper id in its own enum bpf_func_id, the wrapper in kallsyms.
        var funcIds = (Bpf.Btf.BtfEnum?)KernelBtf.Get("test").FindType("bpf_func_id", Bpf.Btf.BtfKind.Enum);
        bool cookie = funcIds?.Values.Any(v => v.Name == "BPF_FUNC_get_attach_cookie") == true;
        bool wrapper = File.ReadLines("/proc/kallsyms").Any(l => l.EndsWith(" __x64_sys_bpf", StringComparison.Ordinal));
        using var c = KernelCollection.Load(Read("kconfig_virtual"));
        Assert.Equal((cookie ? 2u : 0u) + (wrapper ? 1u : 0u), c.Run("virtuals", new byte[64]).ReturnValue);
        Assert.Contains(c.Diagnostics, d => d.Contains("LINUX_BPFNET_NO_SUCH_VALUE", StringComparison.Ordinal) && d.Contains("left 0", StringComparison.Ordinal));
    }

    // ---- the interpreter against the kernel: __kconfig externs and the tracing helpers of issue 17 ----

    private static (IBpfCollection Kernel, IBpfCollection Interpreter) BothEngines(string feature, BpfEngineOptions? options = null) =>
        (BpfEngine.Open(Read(feature), EngineChoice.Kernel, options), BpfEngine.Open(Read(feature), EngineChoice.Interpreter, options));

    [KernelTheory]
    [InlineData(null)]
    [InlineData("CONFIG_HZ=0x3e8\nCONFIG_BPF_LSM=m\nCONFIG_BPF_JIT=m\nCONFIG_LOCALVERSION=\"-a-string-longer-than-sixteen\"")]
    public void Kconfig_externs_read_the_same_values_in_the_interpreter_as_in_the_kernel(string? kconfig)
    {
        KernelConfig();
        var options = new BpfEngineOptions { Kernel = new KernelCollectionOptions { Kconfig = kconfig } };
        var (k, i) = BothEngines("kconfig", options);
        using (k)
        using (i)
        {
            Assert.Equal(0u, k.Program("read_config").Run(new byte[64]).ReturnValue);
            Assert.Equal(0u, i.Program("read_config").Run(new byte[64]).ReturnValue);
            var seen = k.ReadVariable("seen");
            Assert.NotEqual(0u, BinaryPrimitives.ReadUInt32LittleEndian(seen)); // LINUX_KERNEL_VERSION
            Assert.Equal(seen, i.ReadVariable("seen"));
        }
        var (kv, iv) = BothEngines("kconfig_virtual", options);
        using (kv)
        using (iv)
        {
            Assert.Equal(kv.Program("virtuals").Run(new byte[64]).ReturnValue, iv.Program("virtuals").Run(new byte[64]).ReturnValue);
        }
    }

    [KernelFact]
    public void Trace_vprintk_returns_what_the_kernel_returns()
    {
        var (k, i) = BothEngines("tracing_helpers");
        using (k)
        using (i)
        {
            Assert.Equal(0u, k.Program("vprintk").Run(new byte[64]).ReturnValue);
            Assert.Equal(0u, i.Program("vprintk").Run(new byte[64]).ReturnValue);
            var kernel = k.ReadVariable("vprintk_ret");
            Assert.Equal("a=-1 b=2 c=ff d=1234567890123 e=00042\n".Length, BinaryPrimitives.ReadInt64LittleEndian(kernel));
            Assert.Equal(kernel, i.ReadVariable("vprintk_ret"));
        }
    }

    [KernelFact]
    public void Get_ns_current_pid_tgid_agrees_with_the_kernel_for_the_namespace_and_for_another()
    {
        // The pid namespace as user space names it (what minimal_ns's loader passes): st_dev and st_ino of /proc/self/ns/pid.
        var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", "-L -c \"%d %i\" /proc/self/ns/pid") { RedirectStandardOutput = true })!;
        var fields = stat.StandardOutput.ReadToEnd().Trim().Split(' ');
        stat.WaitForExit();
        if (stat.ExitCode != 0 || fields.Length != 2) Assert.Skip("stat of /proc/self/ns/pid failed");
        ulong dev = ulong.Parse(fields[0], CultureInfo.InvariantCulture), ino = ulong.Parse(fields[1], CultureInfo.InvariantCulture);
        var interpreter = new Bpf.Runtime.CollectionOptions { CpuCount = 1 };
        interpreter.Environment.PidNamespace = (dev, ino);
        var (k, i) = BothEngines("tracing_helpers", new BpfEngineOptions { Interpreter = interpreter });
        using (k)
        using (i)
        {
            foreach (var (d, n) in new[] { (dev, ino), (dev, ino + 1) })
            {
                byte[] Run(IBpfCollection c)
                {
                    Span<byte> v = stackalloc byte[8];
                    BinaryPrimitives.WriteUInt64LittleEndian(v, d);
                    c.WriteVariable("ns_dev", v);
                    BinaryPrimitives.WriteUInt64LittleEndian(v, n);
                    c.WriteVariable("ns_ino", v);
                    // The task the kernel's test run sees is this thread: the interpreter is told the same ids.
                    var tid = ulong.Parse(Path.GetFileName(Directory.ResolveLinkTarget("/proc/thread-self", false)!.FullName), CultureInfo.InvariantCulture);
                    interpreter.Environment.PidTgid = (ulong)Environment.ProcessId << 32 | tid;
                    // The same call on both engines (the kernel's raw tracepoint test run takes the context alone).
                    var r = c.Program("ns_pid").Run([], new byte[8]);
                    Assert.True(r.Succeeded);
                    Assert.Equal(new byte[8], r.Context);
                    return [.. c.ReadVariable("ns_ret"), .. c.ReadVariable("ns_seen"), .. c.ReadVariable("ns_short_ret"), .. c.ReadVariable("ns_short")];
                }
                var kernel = Run(k);
                Assert.Equal(kernel, Run(i));
                Assert.Equal(d == dev && n == ino ? 0L : -22L, BinaryPrimitives.ReadInt64LittleEndian(kernel));
            }
        }
    }
}
