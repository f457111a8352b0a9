using System.Buffers.Binary;
using Bpf.Runtime;
using Bpf.Tests;

namespace Bpf.Core.Tests.Runtime;

/// <summary>The tracing helpers and <c>__kconfig</c> externs of the managed runtime (issue 17: libbpf-bootstrap's
/// ksyscall, usdt, minimal_ns and profile), on the feature objects tracing_helpers.c, kconfig.c and kconfig_virtual.c.</summary>
public sealed class TracingHelperTests
{
    private const long EINVAL = -22, EFAULT = -14;

    private static ManagedCollection Load(string feature, CollectionOptions? options = null) =>
        ManagedCollection.Load(ObjectSpec.ReadFile(RepoPaths.FeatureObject(feature)), options ?? new CollectionOptions { CpuCount = 1 });

    private static ulong U64(ManagedCollection c, string name, int at = 0) => BinaryPrimitives.ReadUInt64LittleEndian(c.Variable(name)[at..]);

    private static uint U32(ManagedCollection c, string name, int at = 0) => BinaryPrimitives.ReadUInt32LittleEndian(c.Variable(name)[at..]);

    [Fact]
    public void Get_attach_cookie_returns_the_cookie_the_run_was_given_and_0_without_one()
    {
        var c = Load("tracing_helpers");
        c.Run("attach_cookie", new MemoryContext(new byte[168]) { AttachCookie = 0x1234_5678_9abc_def0 });
        Assert.Equal(0x1234_5678_9abc_def0UL, U64(c, "cookie_seen"));
        c.Run("attach_cookie", new MemoryContext(new byte[168]));
        Assert.Equal(0UL, U64(c, "cookie_seen"));
    }

    [Fact]
    public void Get_ns_current_pid_tgid_fills_the_struct_only_for_the_namespace_the_task_is_in()
    {
        var options = new CollectionOptions { CpuCount = 1 };
        options.Environment.PidTgid = 4321UL << 32 | 4325;
        options.Environment.PidNamespace = (4, 4026531836);
        var c = Load("tracing_helpers", options);
        void Ask(ulong dev, ulong ino)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(c.Variable("ns_dev"), dev);
            BinaryPrimitives.WriteUInt64LittleEndian(c.Variable("ns_ino"), ino);
            Assert.True(c.Run("ns_pid", new MemoryContext(new byte[64])).Succeeded);
        }

        Ask(4, 4026531836);
        Assert.Equal(0L, (long)U64(c, "ns_ret"));
        Assert.Equal((4325u, 4321u), (U32(c, "ns_seen"), U32(c, "ns_seen", 4)));
        // Wrong size: -EINVAL and the buffer zeroed (the second call of the program, size 4).
        Assert.Equal(EINVAL, (long)U64(c, "ns_short_ret"));
        Assert.Equal((0u, 0xbeefu), (U32(c, "ns_short"), U32(c, "ns_short", 4)));

        foreach (var (dev, ino) in new[] { (4UL, 4026531837UL), (5UL, 4026531836UL), (1UL << 32 | 4, 4026531836UL) })
        {
            Ask(dev, ino);
            Assert.Equal(EINVAL, (long)U64(c, "ns_ret"));
            Assert.Equal(0UL, U64(c, "ns_seen"));
        }

        // No namespace configured: nothing matches.
        options.Environment.PidNamespace = null;
        Ask(4, 4026531836);
        Assert.Equal(EINVAL, (long)U64(c, "ns_ret"));
    }

    [Theory]
    [InlineData(0UL, 64u, 0L)]                   // kernel stack: empty, 0 bytes copied
    [InlineData(1UL << 8, 64u, 0L)]              // BPF_F_USER_STACK: empty too
    [InlineData(1UL << 8 | 1UL << 11, 64u, 0L)]  // user stack with build ids, 2 × 32-byte elements
    [InlineData(3UL, 64u, EFAULT)]               // skipping frames of an empty stack (trace->nr < skip)
    [InlineData(1UL << 9, 64u, EINVAL)]          // an unknown flag
    [InlineData(1UL << 11, 64u, EINVAL)]         // build ids of a kernel stack
    [InlineData(0UL, 12u, EINVAL)]               // size not a multiple of 8
    [InlineData(1UL << 8 | 1UL << 11, 40u, EINVAL)] // not a multiple of sizeof(struct bpf_stack_build_id)
    public void Get_stack_behaves_as_the_kernel_on_an_empty_callchain_and_zeroes_the_buffer(ulong flags, uint size, long expected)
    {
        var c = Load("tracing_helpers");
        BinaryPrimitives.WriteUInt64LittleEndian(c.Variable("stack_flags"), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(c.Variable("stack_size"), size);
        Assert.True(c.Run("stack", new MemoryContext(new byte[168])).Succeeded);
        Assert.Equal(expected, (long)U64(c, "stack_ret"));
        var buffer = c.Variable("stack_buf");
        Assert.All(buffer[..(int)size].ToArray(), b => Assert.Equal(0, b));
        Assert.All(buffer[(int)size..].ToArray(), b => Assert.Equal(0xaa, b)); // beyond size: untouched
    }

    [Fact]
    public void Trace_vprintk_formats_like_trace_printk_with_its_arguments_in_an_array()
    {
        var lines = new List<string>();
        var options = new CollectionOptions { CpuCount = 1 };
        options.Environment.TraceSink = lines.Add;
        var c = Load("tracing_helpers", options);
        Assert.True(c.Run("vprintk", new SkBuffContext(new byte[64])).Succeeded);
        const string five = "a=-1 b=2 c=ff d=1234567890123 e=00042\n";
        Assert.Equal(five.Length, (long)U64(c, "vprintk_ret"));
        Assert.Equal(EINVAL, (long)U64(c, "vprintk_ret", 8));
        Assert.Equal(EINVAL, (long)U64(c, "vprintk_ret", 16));
        Assert.Equal("no arguments\n".Length, (long)U64(c, "vprintk_ret", 24));
        Assert.Equal([five.TrimEnd('\n'), "no arguments"], lines);
    }

    [Fact]
    public void Kconfig_externs_read_the_values_the_collection_was_given()
    {
        var options = new CollectionOptions
        {
            CpuCount = 1,
            Kconfig = spec => KconfigValues.Build(spec,
                [new KconfigSource("test", ["CONFIG_BPF_SYSCALL=y", "CONFIG_BPF_JIT=m", "CONFIG_HZ=250", "CONFIG_BPF_LSM=y", "CONFIG_LOCALVERSION=\"-t\""])],
                new Dictionary<string, ulong> { ["LINUX_KERNEL_VERSION"] = 0x061200 }),
        };
        var c = Load("kconfig", options);
        Assert.Equal(0UL, c.Run("read_config", new SkBuffContext(new byte[64])).R0);
        Assert.Equal((0x061200u, 1u, 2u, 250u, (uint)'y'), (U32(c, "seen"), U32(c, "seen", 4), U32(c, "seen", 8), U32(c, "seen", 12), U32(c, "seen", 16)));
        Assert.Equal(0UL, U64(c, "seen", 24)); // weak, set nowhere
        Assert.Equal("-t", System.Text.Encoding.ASCII.GetString(c.Variable("seen")[32..48]).TrimEnd('\0'));
        Assert.Contains(c.Diagnostics, d => d.Contains("CONFIG_BPFNET_NO_SUCH_OPTION", StringComparison.Ordinal));
        // The .kconfig map is read-only for programs, as the kernel's is.
        Assert.True(c.Map(ObjectSpec.KconfigMapName).ReadOnlyForPrograms);
    }

    [Fact]
    public void Kconfig_externs_without_values_or_unresolvable_leave_the_program_out_naming_the_extern()
    {
        var none = Load("kconfig");
        var e = Assert.Throws<NotSupportedException>(() => none.Program("read_config"));
        Assert.Contains("references extern '", e.Message);
        Assert.Contains("does not resolve externs", e.Message);

        // A strong CONFIG_ option no source sets.
        var missing = Load("kconfig", new CollectionOptions { CpuCount = 1, Kconfig = spec => KconfigValues.Build(spec, [], new Dictionary<string, ulong> { ["LINUX_KERNEL_VERSION"] = 1 }) });
        e = Assert.Throws<NotSupportedException>(() => missing.Program("read_config"));
        Assert.Contains("CONFIG_BPF_SYSCALL", e.Message);
    }
}
