using System.Diagnostics;
using System.Globalization;

namespace Bpf.Cli;

/// <summary>
/// A live progress or counter line for long work (<c>run --repeat N</c>, <c>verify</c> of an object with many
/// programs, <c>attach</c> while it waits for Ctrl-C): rewritten in place on stderr (<c>\r</c>, no newline), at most
/// every <see cref="Interval"/>, and erased when the work ends, so that what stays on the terminal is the command's
/// ordinary output. Shown only when stderr is a terminal (<see cref="CliContext.ErrorIsTerminal"/>); when stderr is
/// redirected (a script, a pipe, a test) it writes nothing at all.
/// </summary>
internal sealed class Progress : IDisposable
{
    /// <summary>The least time between two updates of the line.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private readonly TextWriter? _err;
    private readonly string _label;
    private readonly long _total;
    private readonly Func<long> _clock;
    private readonly long _intervalTicks;
    private readonly object _lock = new();
    private long _nextUpdate;
    private int _width;
    private bool _disposed;
    private Timer? _timer;

    /// <param name="err">Where the line goes; null for a progress that shows nothing.</param>
    /// <param name="label">What is being done, e.g. <c>run</c>.</param>
    /// <param name="total">The count at completion (a percentage is shown), or 0 for an open-ended counter.</param>
    /// <param name="clock">Stopwatch ticks (tests give a fake clock).</param>
    internal Progress(TextWriter? err, string label, long total, Func<long>? clock = null)
    {
        _err = err;
        _label = label;
        _total = total;
        _clock = clock ?? Stopwatch.GetTimestamp;
        _intervalTicks = (long)(Interval.TotalSeconds * Stopwatch.Frequency);
        _nextUpdate = _clock() + _intervalTicks; // work that ends within one interval never shows a line
    }

    /// <summary>The progress for <paramref name="cli"/>: live when its stderr is a terminal, else silent.</summary>
    public static Progress For(CliContext cli, string label, long total = 0) =>
        new(ShouldShow(cli.ErrorIsTerminal) ? cli.Err : null, label, total);

    /// <summary>The decision: a live line only on a terminal; redirected stderr stays quiet.</summary>
    public static bool ShouldShow(bool errorIsTerminal) => errorIsTerminal;

    /// <summary>Whether this progress writes anything.</summary>
    public bool Enabled => _err is not null;

    /// <summary>Reports <paramref name="done"/> of the total (or the counter's value), with an optional note; the
    /// line is rewritten only when <see cref="Interval"/> has passed since the last update.</summary>
    public void Report(long done, string? note = null)
    {
        if (_err is null) return;
        lock (_lock)
        {
            long now = _clock();
            if (now < _nextUpdate || _disposed) return;
            _nextUpdate = now + _intervalTicks;
            Write(Format(done, note));
        }
    }

    /// <summary>For work that reports nothing while it runs (one long call): from now on, every
    /// <see cref="Interval"/> a timer rewrites the line with <paramref name="text"/> of the time elapsed, until
    /// <see cref="Dispose"/>. Does nothing when this progress is silent.</summary>
    public Progress Ticking(Func<TimeSpan, string> text)
    {
        if (_err is null) return this;
        var started = _clock();
        _timer = new Timer(_ =>
        {
            lock (_lock)
            {
                if (_disposed) return;
                string line;
                try
                {
                    line = text(TimeSpan.FromSeconds((_clock() - started) / (double)Stopwatch.Frequency));
                }
#pragma warning disable CA1031 // a status line that cannot be made is skipped: it must never end the command
                catch (Exception)
#pragma warning restore CA1031
                {
                    return;
                }
                Write(line);
            }
        }, null, Interval, Interval);
        return this;
    }

    /// <summary>The line for <paramref name="done"/>: <c>run: 4200/10000 (42%)</c>, or <c>attach: 12 s</c> for a counter.</summary>
    internal string Format(long done, string? note)
    {
        var text = _total > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{_label}: {done}/{_total} ({done * 100 / _total}%)")
            : string.Create(CultureInfo.InvariantCulture, $"{_label}: {done}");
        return note is null ? text : text + " " + note;
    }

    private void Write(string text)
    {
        // Pad over a longer previous line; never a newline, so the terminal keeps one line for it.
        var padded = text.Length < _width ? text.PadRight(_width) : text;
        _width = Math.Max(_width, text.Length);
        _err!.Write("\r" + padded);
        _err.Flush();
    }

    /// <summary>Stops the timer (if <see cref="Ticking"/> started one) and erases the line (when one was shown),
    /// leaving the cursor where the line began.</summary>
    public void Dispose()
    {
        if (_err is null) return;
        if (_timer is not null)
        {
            // Wait for a callback in flight: it may read objects the caller frees next.
            using var stopped = new ManualResetEvent(false);
            if (_timer.Dispose(stopped)) stopped.WaitOne();
            _timer = null;
        }
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            if (_width == 0) return;
            _err.Write("\r" + new string(' ', _width) + "\r");
            _err.Flush();
        }
    }
}
