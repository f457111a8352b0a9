namespace Bpf.Generators.Consumer;

/// <summary>Code written against the generated types, so this project fails to build if they go missing or change shape.</summary>
public static class Uses
{
    public static LayoutProgram.Event SampleEvent()
    {
        var e = new LayoutProgram.Event { Pid = 42, Verdict = LayoutProgram.Verdict.VerdictDrop };
        e.Hops[1].Port = 8080;
        e.Matrix[1][2] = 7;
        e.Fl.Big = 0x12_3456_789A;
        e.Cookie = 0x0102030405060708;
        return e;
    }

    public static string CountsMap => Objects.XdpFilter.Maps.PacketCounts;
}
