using Bpf.Verifier.Internal;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Frames share their stack bytes with their clones until one of them writes (copy on write): the states kept for
/// pruning are clones of the state being walked, so a write that reached a shared array would change a kept state
/// behind the verifier's back. Law: after any sequence of clones and writes, each frame holds exactly the writes
/// made to it and to the frames it was cloned from before the clone. (Mutation testing found the original's
/// "shared" flag removable with every test passing.)
/// </summary>
public sealed class FrameCopyOnWriteTests
{
    [Property(MaxTest = 3000, StartSize = 1 << 20, EndSize = int.MaxValue >> 1)]
    public Property Clones_and_originals_never_see_each_others_writes(int seed)
    {
        var rng = new Random(seed);
        var frames = new List<Frame> { new() };
        var models = new List<SlotType[]> { new SlotType[Frame.StackSize] };
        var log = new List<string>();
        for (var step = 0; step < 30; step++)
        {
            var i = rng.Next(frames.Count);
            if (rng.Next(3) == 0)
            {
                frames.Add(frames[i].Clone());
                models.Add((SlotType[])models[i].Clone());
                log.Add($"clone {i} -> {frames.Count - 1}");
            }
            else
            {
                var b = rng.Next(Frame.StackSize);
                var t = (SlotType)rng.Next(1, 4);
                frames[i].WritableBytes[b] = t;
                models[i][b] = t;
                log.Add($"frame {i}[{b}] = {t}");
            }
        }
        var wrong = Enumerable.Range(0, frames.Count).Where(i => !frames[i].Bytes.SequenceEqual(models[i])).ToList();
        return (wrong.Count == 0).Label($"frames {string.Join(", ", wrong)} differ from their own writes after: {string.Join("; ", log)}");
    }
}
