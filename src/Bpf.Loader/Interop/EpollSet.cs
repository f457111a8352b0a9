using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Bpf.Loader.Interop;

/// <summary>
/// An epoll set with a wake eventfd in it, both owned as <see cref="BpfFd"/>s: descriptors are added with a tag,
/// <see cref="Wait"/> blocks until some are readable, the timeout passes or the token is cancelled (cancellation
/// writes the eventfd, so the wait returns at once). Used by <see cref="RingBufReader"/> and
/// <see cref="PerfEventArrayReader"/>. <see cref="Wake"/> and <see cref="Dispose"/> may be called from any thread;
/// a descriptor closes only once no call is using it (SafeHandle reference counts), and disposing wakes a waiter.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class EpollSet : IDisposable
{
    /// <summary>The tag of the wake eventfd; not available to <see cref="Add"/>.</summary>
    private const ulong WakeTag = ulong.MaxValue;
    private const int MaxEvents = 64;

    private readonly BpfFd _epoll;
    private readonly BpfFd _wake;
    private readonly string _owner;
    private int _disposed;

    /// <summary>Creates the epoll set and its eventfd; <paramref name="owner"/> names the user in error messages.</summary>
    /// <exception cref="BpfSyscallException">epoll_create1, eventfd or epoll_ctl failed.</exception>
    internal EpollSet(string owner)
    {
        _owner = owner;
        int ep = Libc.EpollCreate1(Libc.EPOLL_CLOEXEC);
        if (ep < 0) throw BpfSyscallException.Create("epoll_create1", Marshal.GetLastPInvokeError(), owner);
        var epoll = BpfFd.FromNew(ep);
        BpfFd? wake = null;
        try
        {
            int ev = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
            if (ev < 0) throw BpfSyscallException.Create("eventfd", Marshal.GetLastPInvokeError(), owner);
            wake = BpfFd.FromNew(ev);
            Control(epoll, wake, WakeTag, "eventfd");
        }
        catch
        {
            wake?.Dispose();
            epoll.Dispose();
            throw;
        }
        _epoll = epoll;
        _wake = wake;
    }

    /// <summary>Adds <paramref name="fd"/> for readability (EPOLLIN), reported by <see cref="Wait"/> as <paramref name="tag"/>.</summary>
    /// <exception cref="BpfSyscallException">epoll_ctl failed; <paramref name="what"/> names the descriptor.</exception>
    internal void Add(BpfFd fd, ulong tag, string what)
    {
        ArgumentNullException.ThrowIfNull(fd);
        if (tag == WakeTag) throw new ArgumentOutOfRangeException(nameof(tag), tag, "reserved for the wake eventfd");
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Control(_epoll, fd, tag, what);
    }

    private void Control(BpfFd epoll, BpfFd fd, ulong tag, string what)
    {
        // struct epoll_event is packed (12 bytes) on x86 and naturally aligned (16) elsewhere.
        byte* ev = stackalloc byte[16];
        new Span<byte>(ev, 16).Clear();
        *(uint*)ev = Libc.EPOLLIN;
        *(ulong*)(ev + Libc.EpollDataOffset) = tag;
        bool epollRef = false, fdRef = false;
        try
        {
            epoll.DangerousAddRef(ref epollRef);
            fd.DangerousAddRef(ref fdRef);
            if (Libc.EpollCtl(epoll.Value, Libc.EPOLL_CTL_ADD, fd.Value, (nint)ev) != 0)
                throw BpfSyscallException.Create($"epoll_ctl({what})", Marshal.GetLastPInvokeError(), _owner);
        }
        finally
        {
            if (fdRef) fd.DangerousRelease();
            if (epollRef) epoll.DangerousRelease();
        }
    }

    /// <summary>
    /// Blocks until an added descriptor is readable, <paramref name="timeout"/> passes (<see cref="Timeout.InfiniteTimeSpan"/>:
    /// never) or <paramref name="cancellationToken"/> fires. Returns how many added descriptors are ready (0: timed out,
    /// or the set was disposed meanwhile), their tags written to <paramref name="readyTags"/> as far as it holds them.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="BpfSyscallException">epoll_wait failed.</exception>
    internal int Wait(TimeSpan timeout, CancellationToken cancellationToken, Span<ulong> readyTags)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        using var reg = cancellationToken.Register(static s => ((EpollSet)s!).Wake(), this);
        long deadline = timeout == Timeout.InfiniteTimeSpan ? -1
            : Environment.TickCount64 + (long)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue);
        int capacity = Math.Clamp(readyTags.Length + 1, 2, MaxEvents);
        int stride = Libc.EpollEventSize;
        byte* events = stackalloc byte[16 * MaxEvents];
        bool epollRef = false, wakeRef = false;
        try
        {
            // Held for the whole wait: a concurrent Dispose wakes us, and the descriptors close once we let go.
            _epoll.DangerousAddRef(ref epollRef);
            _wake.DangerousAddRef(ref wakeRef);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int ms = deadline < 0 ? -1 : (int)Math.Max(0, deadline - Environment.TickCount64);
                int n = Libc.EpollWait(_epoll.Value, (nint)events, capacity, ms);
                if (n < 0)
                {
                    int e = Marshal.GetLastPInvokeError();
                    if (e == Errno.EINTR) continue;
                    throw BpfSyscallException.Create("epoll_wait", e, _owner);
                }
                int ready = 0;
                bool woken = false;
                for (int i = 0; i < n; i++)
                {
                    ulong tag = *(ulong*)(events + i * stride + Libc.EpollDataOffset);
                    if (tag == WakeTag) woken = true;
                    else if (ready < readyTags.Length) readyTags[ready++] = tag;
                    else ready++;
                }
                if (woken)
                {
                    ulong v;
                    Libc.Read(_wake.Value, (nint)(&v), 8);
                }
                cancellationToken.ThrowIfCancellationRequested();
                // Woken with nothing ready and not cancelled: either disposed (return), or a wake left over from an
                // earlier call's cancellation that fired after that call drained the eventfd (wait on).
                if (ready > 0 || !woken || Volatile.Read(ref _disposed) != 0) return ready;
            }
        }
        finally
        {
            if (wakeRef) _wake.DangerousRelease();
            if (epollRef) _epoll.DangerousRelease();
        }
    }

    /// <summary>Makes a blocked <see cref="Wait"/> return (no-op once the eventfd is closed). Safe from any thread.</summary>
    internal void Wake()
    {
        bool added = false;
        try
        {
            _wake.DangerousAddRef(ref added);
            ulong one = 1;
            Libc.Write(_wake.Value, (nint)(&one), 8);
        }
        catch (ObjectDisposedException)
        {
            // Already closed: nothing can be waiting on it.
        }
        finally
        {
            if (added) _wake.DangerousRelease();
        }
    }

    /// <summary>Wakes any waiter and closes the epoll fd and the eventfd (once no call is using them).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Wake();
        _wake.Dispose();
        _epoll.Dispose();
    }
}
