using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Bpf.Loader;

namespace Bpf.Cli.Commands;

/// <summary>
/// <c>bpfnet attach OBJECT --program NAME (--xdp IFACE | --tc IFACE [--egress] | --tracepoint CAT/NAME | --cgroup PATH)</c>:
/// loads the object into the kernel, attaches one program, says so (one line, or one JSON document), and stays
/// attached until SIGINT (Ctrl-C) or SIGTERM; then detaches and exits 0. Attaching refused for want of privileges,
/// an unknown interface or a missing tracepoint is exit 2; a program the kernel rejects is exit 1.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class AttachCommand
{
    public static int Run(CliArgs a, CliContext cli)
    {
        var path = a.Single("OBJECT");
        var name = a.Get("--program") ?? throw new CliUsageException("missing --program NAME");
        string[] targets = ["--xdp", "--tc", "--tracepoint", "--cgroup"];
        var given = targets.Where(a.Has).ToList();
        if (given.Count != 1) throw new CliUsageException("give exactly one of --xdp IFACE, --tc IFACE, --tracepoint CAT/NAME, --cgroup PATH");
        if (a.Has("--egress") && given[0] != "--tc") throw new CliUsageException("--egress applies to --tc");
        var target = a.Get(given[0])!;

        ObjectSpec spec;
        try
        {
            spec = ObjectSpec.ReadFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Bpf.BpfObjectException)
        {
            throw new CliUsageException($"{path}: {e.Message}");
        }
        var programSpec = spec.Program(name)
            ?? throw new CliUsageException($"{path}: no program '{name}' (programs: {string.Join(", ", spec.Programs.Select(p => p.Name))})");

        using var stop = new ManualResetEventSlim();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        KernelCollection collection;
        IBpfAttachment attachment;
        try
        {
            collection = KernelCollection.Load(spec);
        }
        catch (BpfSyscallException e) when (e.IsEnvironmentRefusal)
        {
            throw new CliUsageException($"{path}: {e.Message}");
        }
        catch (Exception e) when (e is BpfSyscallException or Bpf.Runtime.MapException or NotSupportedException)
        {
            cli.Err.WriteLine($"bpfnet attach: {path}: {e.Message}");
            return ExitCodes.Failed;
        }
        using (collection)
        {
            var program = collection.Program(name);
            try
            {
                attachment = given[0] switch
                {
                    "--xdp" => BpfLink.AttachXdp(program, target),
                    "--tc" => BpfLink.AttachTcx(program, BpfLink.InterfaceIndex(target), ingress: !a.Has("--egress")),
                    "--tracepoint" => target.Split('/') is [var category, var tracepoint] && category.Length > 0 && tracepoint.Length > 0
                        ? TracepointLink.Attach(program, category, tracepoint)
                        : throw new CliUsageException($"--tracepoint takes CATEGORY/NAME, not '{target}'"),
                    _ => BpfLink.AttachCgroup(program, target, programSpec.AttachType ?? AttachType.CgroupInetIngress),
                };
            }
            catch (Exception e) when (e is BpfSyscallException or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or NotSupportedException)
            {
                // The target is the environment: an interface, tracepoint or cgroup that is not there, or not ours to use.
                throw new CliUsageException($"{path}: attach '{name}' to {given[0][2..]} {target}: {e.Message}");
            }
            using (attachment)
            {
                if (a.Has("--json"))
                {
                    JsonOutput.Write(cli.Out, w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("file", path);
                        w.WriteString("program", name);
                        w.WriteString("target", attachment.Target);
                        w.WriteBoolean("attached", true);
                        w.WriteEndObject();
                    });
                }
                else
                {
                    cli.Out.WriteLine($"attached {name} to {attachment.Target}; Ctrl-C detaches");
                }
                cli.Out.Flush();
                WaitWithCounter(cli, program, name, attachment.Target, stop);
            }
        }
        if (!a.Has("--json")) cli.Out.WriteLine("detached");
        return ExitCodes.Ok;
    }

    /// <summary>Waits for Ctrl-C. On a terminal a live line on stderr counts the time attached and the program's
    /// runs (the kernel counts them while this process holds BPF_ENABLE_STATS; without CAP_SYS_ADMIN, or before
    /// 5.8, the time alone). Redirected, it waits quietly.</summary>
    private static void WaitWithCounter(CliContext cli, BpfProgram program, string name, string target, ManualResetEventSlim stop)
    {
        var progress = Progress.For(cli, "attach");
        BpfFd? stats = null;
        if (progress.Enabled)
        {
            try
            {
                stats = BpfProgram.EnableRunStatistics();
            }
            catch (BpfSyscallException)
            {
                // Not permitted or not supported: the line shows the time only.
            }
        }
        ulong first = 0;
        try
        {
            if (stats is not null) first = program.GetInfo().RunCount;
        }
        catch (BpfSyscallException)
        {
            stats?.Dispose();
            stats = null;
        }
        using (stats)
        using (progress)
        {
            progress.Ticking(t =>
            {
                var text = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"attach: {name} on {target}, {t.TotalSeconds:F1} s");
                if (stats is null) return text;
                var info = program.GetInfo();
                var runs = info.RunCount - first;
                return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{text}, {runs} runs") +
                    (info.RunCount > 0 ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $", {info.RunTime.TotalNanoseconds / info.RunCount:F0} ns/run") : "");
            });
            stop.Wait();
        }
    }
}
