using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>
/// A Tracepoint program attached to a kernel tracepoint through perf_event_open: as a bpf_link (5.15+), or
/// with PERF_EVENT_IOC_SET_BPF on older kernels. Disposing detaches it.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class TracepointLink : IBpfAttachment
{
    private const uint PerfTypeTracepoint = 2;
    private const nint PerfFlagFdCloexec = 8;
    private const nuint IocEnable = 0x2400, IocSetBpf = 0x40042408;

    private readonly BpfFd _perfEvent;
    private readonly BpfLink? _link;

    private TracepointLink(BpfFd perfEvent, BpfLink? link, string target)
    {
        _perfEvent = perfEvent;
        _link = link;
        Target = target;
    }

    /// <inheritdoc/>
    public string Target { get; }

    /// <summary>True if the attachment is a bpf_link (false: the older ioctl path).</summary>
    public bool IsLink => _link is not null;

    /// <summary>
    /// Attaches <paramref name="program"/> to tracepoint <paramref name="category"/>/<paramref name="name"/>
    /// (e.g. <c>syscalls</c>/<c>sys_enter_getpid</c>). Mounts tracefs at /sys/kernel/tracing when no tracefs is
    /// mounted (needs CAP_SYS_ADMIN).
    /// </summary>
    public static TracepointLink Attach(BpfProgram program, string category, string name)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentException.ThrowIfNullOrEmpty(category);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (category.Contains('/') || category.Contains("..") || name.Contains('/') || name.Contains(".."))
            throw new ArgumentException($"bad tracepoint name '{category}/{name}'");
        string idFile = Path.Combine(TraceFs.EventsDirectory(), category, name, "id");
        if (!File.Exists(idFile))
            throw new BpfNotSupportedException($"tracepoint {category}/{name}", null, $"{idFile} does not exist");
        ulong id = ulong.Parse(File.ReadAllText(idFile).Trim(), CultureInfo.InvariantCulture);

        var attr = new PerfEventAttr { type = PerfTypeTracepoint, size = (uint)sizeof(PerfEventAttr), config = id, sample_period = 1, wakeup_events = 1 };
        nint r = Libc.Syscall5(SyscallNumbers.PerfEventOpen, (nint)(&attr), -1, 0, -1, PerfFlagFdCloexec);
        if (r < 0) throw BpfSyscallException.Create("perf_event_open", Marshal.GetLastPInvokeError(), $"tracepoint {category}/{name} (id {id})");
        var pfd = BpfFd.FromNew((int)r);
        string target = $"tracepoint {category}/{name}";
        try
        {
            BpfLink? link = null;
            try
            {
                link = BpfLink.AttachPerfEvent(program, pfd, target);
            }
            catch (BpfSyscallException e) when (e.Errno == Errno.EINVAL)
            {
                // Kernels before 5.15 cannot make perf-event links: attach with the ioctl instead.
                if (Libc.Ioctl(pfd.Value, IocSetBpf, program.Fd.Value) < 0)
                    throw BpfSyscallException.Create("ioctl(PERF_EVENT_IOC_SET_BPF)", Marshal.GetLastPInvokeError(), target);
            }
            if (Libc.Ioctl(pfd.Value, IocEnable, 0) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                link?.Dispose();
                throw BpfSyscallException.Create("ioctl(PERF_EVENT_IOC_ENABLE)", errno, target);
            }
            GC.KeepAlive(program);
            return new TracepointLink(pfd, link, target);
        }
        catch
        {
            pfd.Dispose();
            throw;
        }
    }

    /// <summary>Detaches: closes the link, then the perf event.</summary>
    public void Dispose()
    {
        _link?.Dispose();
        _perfEvent.Dispose();
    }
}

/// <summary>Finds (and if needed mounts) tracefs.</summary>
[SupportedOSPlatform("linux")]
public static class TraceFs
{
    /// <summary>The <c>events</c> directory of a mounted tracefs, mounting one at /sys/kernel/tracing if none is.</summary>
    public static string EventsDirectory()
    {
        foreach (var dir in new[] { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" })
            if (Directory.Exists(Path.Combine(dir, "events"))) return Path.Combine(dir, "events");
        const string MountPoint = "/sys/kernel/tracing";
        if (!Directory.Exists(MountPoint))
            throw new BpfNotSupportedException("tracefs", new Version(4, 1), $"{MountPoint} does not exist (CONFIG_TRACING off?)");
        if (Libc.Mount("tracefs", MountPoint, "tracefs", 0, 0) != 0)
            throw BpfSyscallException.Create($"mount(tracefs, {MountPoint})", Marshal.GetLastPInvokeError(), "tracefs is not mounted and mounting it failed");
        return Path.Combine(MountPoint, "events");
    }
}
