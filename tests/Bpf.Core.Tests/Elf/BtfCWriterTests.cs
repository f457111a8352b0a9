using System.Text;
using Bpf.Btf;
using Bpf.Elf;

namespace Bpf.Tests.Elf;

/// <summary>BTF to C (<see cref="BtfCWriter"/>): exact text on a hand-made BTF (the expected text is what libbpf's
/// btf_dump prints for the same bytes), loops refused, and the kernel's own BTF turned into a vmlinux.h that
/// clang compiles with every struct laid out as BTF says.</summary>
public class BtfCWriterTests
{
    private const int Int = 1, Ptr = 2, Array = 3, Struct = 4, Union = 5, Enum = 6, Fwd = 7, Typedef = 8, Volatile = 9, Const = 10, Func = 12, Proto = 13, DeclTag = 17, Enum64 = 19;

    /// <summary>Every construct the writer has a rule for, in one BTF.</summary>
    internal static byte[] Sample()
    {
        var b = new BtfBuilder();
        var i32 = b.Type("int", Int, 0, false, 4, 0x01000020);                          // 1
        var ch = b.Type("char", Int, 0, false, 1, 0x03000008);                          // 2
        var ul = b.Type("long unsigned int", Int, 0, false, 8, 64);                     // 3
        b.Type("node", Struct, 2, false, 16, b.Str("next"), 5, 0, b.Str("value"), i32, 64); // 4: a list through a pointer to itself
        b.Type("", Ptr, 0, false, 4);                                                   // 5
        b.Type("a", Struct, 1, false, 8, b.Str("b"), 7, 0);                             // 6: a and b point to each other
        b.Type("", Ptr, 0, false, 8);                                                   // 7
        b.Type("b", Struct, 1, false, 8, b.Str("a"), 9, 0);                             // 8
        b.Type("", Ptr, 0, false, 6);                                                   // 9
        b.Type("flags", Struct, 3, true, 4, b.Str("lo"), i32, (3u << 24) | 0, b.Str("hi"), i32, (5u << 24) | 8, b.Str("x"), ch, 16); // 10: bitfields and a hole
        b.Type("", Union, 2, false, 4, b.Str("i"), i32, 0, b.Str("c"), 12, 0);          // 11: anonymous union
        b.Type("", Array, 0, false, 0, ch, i32, 4);                                     // 12: char[4]
        b.Type("outer", Struct, 2, false, 8, 0, 11, 0, b.Str("tag"), 14, 32);           // 13: embeds 11 and 14 without names / inline
        b.Type("", Enum, 2, false, 4, b.Str("X"), 1, b.Str("Y"), 2);                    // 14: anonymous enum, used by a member
        b.Type("", Enum, 2, true, 4, b.Str("TOP_A"), 0, b.Str("TOP_B"), 0xffffffff);    // 15: anonymous enum used by nothing: constants
        b.Type("", Proto, 2, false, i32, b.Str("ctx"), 17, b.Str("n"), i32);            // 16: int (void *ctx, int n)
        b.Type("", Ptr, 0, false, 0);                                                   // 17: void *
        b.Type("", Ptr, 0, false, 16);                                                  // 18: pointer to 16
        b.Type("handler_t", Typedef, 0, false, 18);                                     // 19
        b.Type("", Array, 0, false, 0, 18, i32, 2);                                     // 20: two function pointers
        b.Type("table", Struct, 3, false, 32, b.Str("ops"), 20, 0, b.Str("h"), 19, 128, b.Str("grid"), 23, 192); // 21
        b.Type("", Array, 0, false, 0, ch, i32, 3);                                     // 22: char[3]
        b.Type("", Array, 0, false, 0, 22, i32, 2);                                     // 23: char[2][3]
        b.Type("", Const, 0, false, ch);                                                // 24: const char
        b.Type("", Ptr, 0, false, 24);                                                  // 25: const char *
        b.Type("", Volatile, 0, false, 25);                                             // 26: const char * volatile
        b.Type("quals", Struct, 1, false, 8, b.Str("name"), 26, 0);                     // 27
        b.Type("dup", Struct, 1, false, 4, b.Str("x"), i32, 0);                         // 28: two structs named dup
        b.Type("dup", Struct, 1, false, 8, b.Str("y"), ul, 0);                          // 29
        b.Type("holder", Struct, 2, false, 16, b.Str("d1"), 28, 0, b.Str("d2"), 29, 64); // 30
        b.Type("pk", Struct, 2, false, 5, b.Str("c"), ch, 0, b.Str("i"), i32, 8);       // 31: packed
        b.Type("big", Enum64, 1, false, 8, b.Str("HUGE"), 0, 1);                        // 32: 1 << 32
        b.Type("small", Enum, 1, false, 1, b.Str("S1"), 1);                             // 33: one byte
        b.Type("opaque", Fwd, 0, false, 0);                                             // 34
        b.Type("", Proto, 2, false, 0, b.Str("fmt"), 25, 0, 0);                         // 35: void (const char *fmt, ...)
        b.Type("printf_fn", Typedef, 0, false, 35);                                     // 36
        b.Type("my_kfunc", Func, 1, false, 16);                                         // 37
        b.Type("bpf_kfunc", DeclTag, 0, false, 37, 0xffffffff);                         // 38
        b.Type("", Proto, 0, false, i32);                                               // 39: int (void)
        b.Type("", Ptr, 0, false, 39);                                                  // 40
        b.Type("uses_opaque", Struct, 2, false, 16, b.Str("o"), 42, 0, b.Str("get"), 40, 64); // 41
        b.Type("", Ptr, 0, false, 34);                                                  // 42: struct opaque *
        return b.Build();
    }

    // What libbpf 1.1's btf_dump__dump_type prints for Sample() type by type (checked with tools/parity/btf-dump-oracle.c),
    // except int (*)(void), which newer libbpf (and bpftool) print with (void) and libbpf 1.1 with ().
    private const string SampleC = """
        struct node {
        	struct node *next;
        	int value;
        };

        struct b;

        struct a {
        	struct b *b;
        };

        struct b {
        	struct a *a;
        };

        struct flags {
        	int lo: 3;
        	char: 5;
        	int hi: 5;
        	char x;
        };

        struct outer {
        	union {
        		int i;
        		char c[4];
        	};
        	enum {
        		X = 1,
        		Y = 2,
        	} tag;
        };

        enum {
        	TOP_A = 0,
        	TOP_B = -1,
        };

        typedef int (*handler_t)(void *ctx, int n);

        struct table {
        	int (*ops[2])(void *ctx, int n);
        	handler_t h;
        	char grid[2][3];
        };

        struct quals {
        	const char * volatile name;
        };

        struct dup {
        	int x;
        };

        struct dup___2 {
        	long unsigned int y;
        };

        struct holder {
        	struct dup d1;
        	struct dup___2 d2;
        };

        struct pk {
        	char c;
        	int i;
        } __attribute__((packed));

        enum big {
        	HUGE = 4294967296ULL,
        };

        enum small {
        	S1 = 1,
        } __attribute__((mode(byte)));

        struct opaque;

        typedef void printf_fn(const char *fmt, ...);

        struct uses_opaque {
        	struct opaque *o;
        	int (*get)(void);
        };


        """;

    [Fact]
    public void Sample_btf_is_written_as_libbpf_writes_it()
    {
        var btf = BtfSpec.Parse(Sample());
        var text = new StringWriter { NewLine = "\n" };
        BtfCWriter.WriteTypes(btf, text);
        Assert.Equal(SampleC.ReplaceLineEndings("\n"), text.ToString());
    }

    [Fact]
    public void Header_has_the_guard_the_pragma_and_kfunc_prototypes()
    {
        var text = new StringWriter { NewLine = "\n" };
        BtfCWriter.WriteHeader(BtfSpec.Parse(Sample()), text);
        var h = text.ToString();
        Assert.StartsWith("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n", h, StringComparison.Ordinal);
        Assert.Contains("#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)", h, StringComparison.Ordinal);
        Assert.Contains("extern int my_kfunc(void *ctx, int n) __weak __ksym;\n", h, StringComparison.Ordinal);
        Assert.True(h.IndexOf("#pragma clang attribute pop", StringComparison.Ordinal) > h.IndexOf("struct uses_opaque {", StringComparison.Ordinal));
        Assert.EndsWith("#endif /* __VMLINUX_H__ */\n", h, StringComparison.Ordinal);
    }

    [Fact]
    public void Declaration_puts_the_name_inside_the_declarator()
    {
        var btf = BtfSpec.Parse(Sample());
        Assert.Equal("int (*ops[2])(void *ctx, int n)", BtfCWriter.Declaration(btf, btf.TypeById(20), "ops"));
        Assert.Equal("char grid[2][3]", BtfCWriter.Declaration(btf, btf.TypeById(23), "grid"));
        Assert.Equal("const char * volatile", BtfCWriter.Declaration(btf, btf.TypeById(26), ""));
    }

    [Fact]
    public void Loops_are_refused_with_the_type_id_not_a_stack_overflow()
    {
        var typedefs = BtfSpec.Parse(BtfBuilder.TypedefLoop()); // typedef a -> b -> a
        var e = Assert.Throws<BpfObjectException>(() => BtfCWriter.WriteTypes(typedefs, TextWriter.Null));
        Assert.Contains("deeper than", e.Message, StringComparison.Ordinal);

        var b = new BtfBuilder();
        b.Type("int", Int, 0, false, 4, 0x01000020);
        b.Type("self", Struct, 1, false, 4, b.Str("me"), 3, 0);   // 2: struct self { struct self (via const) me; }
        b.Type("", Const, 0, false, 2);                           // 3
        e = Assert.Throws<BpfObjectException>(() => BtfCWriter.WriteTypes(BtfSpec.Parse(b.Build()), TextWriter.Null));
        Assert.Contains("type 2 (struct self): unsatisfiable type cycle", e.Message, StringComparison.Ordinal);

        var h = new BtfBuilder();
        h.Type("int", Int, 0, false, 4, 0x01000020);
        h.Type("hole", Struct, 1, false, 0xfffffff0, h.Str("x"), 1, 0); // 4 GiB of padding after x: refused, not written
        e = Assert.Throws<BpfObjectException>(() => BtfCWriter.WriteTypes(BtfSpec.Parse(h.Build()), TextWriter.Null));
        Assert.Contains("type 2 (struct hole): a hole of 4294967276 bytes at byte 4", e.Message, StringComparison.Ordinal);

        var p = new BtfBuilder();
        p.Type("", Ptr, 0, false, 2);                             // 1 -> 2 -> 1: pointers to pointers forever
        p.Type("", Ptr, 0, false, 1);
        p.Type("s", Struct, 1, false, 8, p.Str("p"), 1, 0);
        e = Assert.Throws<BpfObjectException>(() => BtfCWriter.WriteTypes(BtfSpec.Parse(p.Build()), TextWriter.Null));
        Assert.Contains("deeper than", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mutated_btf_is_written_or_refused_with_BpfObjectException_never_anything_else()
    {
        // Random bytes of a real object's type section: what parses must either write or be refused cleanly
        // (loops of every kind guarded by MaxDepth, dangling ids caught by the parser).
        var elf = ElfFile.Parse(Corpus.Bytes("globals"));
        var section = elf.FindSection(".BTF")!;
        var original = elf.GetContents(section).ToArray();
        var typeStart = 24 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan(8));
        var typeLength = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan(12));
        var random = new Random(17);
        int written = 0, refused = 0;
        for (var i = 0; i < 3000; i++)
        {
            var bytes = original.ToArray();
            for (var k = random.Next(1, 4); k > 0; k--) bytes[typeStart + random.Next(typeLength)] = (byte)random.Next(256);
            BtfSpec btf;
            try
            {
                btf = BtfSpec.Parse(bytes);
            }
            catch (BpfObjectException)
            {
                continue;
            }
            try
            {
                BtfCWriter.WriteHeader(btf, TextWriter.Null);
                written++;
            }
            catch (BpfObjectException)
            {
                refused++;
            }
        }
        Assert.True(written > 100 && refused > 0, $"written {written}, refused {refused}");
    }

    [Fact]
    public void Kernel_btf_becomes_a_vmlinux_h_clang_compiles_with_every_layout_as_btf_says()
    {
        Need.SystemFile("/sys/kernel/btf/vmlinux");
        Need.Tools("clang-14");
        var btf = BtfSpec.ReadFile("/sys/kernel/btf/vmlinux");
        var dir = Directory.CreateTempSubdirectory("bpfnet-vmlinux-");
        try
        {
            using (var w = new StreamWriter(Path.Combine(dir.FullName, "vmlinux.h")) { NewLine = "\n" })
            {
                BtfCWriter.WriteHeader(btf, w);
            }
            // Size and member offsets of every struct and union with a name no other type shares, asserted at compile time.
            var names = btf.Types.Where(t => t is BtfComposite or BtfEnum && t.Name.Length > 0).GroupBy(t => t.Name).Where(g => g.Count() == 1).Select(g => g.Key).ToHashSet();
            var checks = new StringBuilder("#include \"vmlinux.h\"\n");
            var structs = 0;
            // __builtin_va_list is the compiler's own (24 bytes on x86-64, a pointer on the bpf target): what embeds it
            // has the target's layout, as with bpftool's header.
            var memo = new Dictionary<uint, bool>();
            foreach (var c in btf.Types.OfType<BtfComposite>().Where(c => names.Contains(c.Name) && !EmbedsVaList(c, memo, 0)))
            {
                var tag = $"{(c.IsUnion ? "union" : "struct")} {c.Name}";
                checks.Append($"_Static_assert(sizeof({tag}) == {c.Size}, \"{c.Name}\");\n");
                foreach (var m in c.Members.Where(m => m.Name.Length > 0 && m.BitfieldSize == 0))
                {
                    checks.Append($"_Static_assert(__builtin_offsetof({tag}, {m.Name}) == {m.ByteOffset}, \"{c.Name}.{m.Name}\");\n");
                }
                structs++;
            }
            Assert.True(structs > 1000, $"only {structs} structs in the kernel's BTF");
            File.WriteAllText(Path.Combine(dir.FullName, "layout.c"), checks.ToString());
            Corpus.TryRun("clang-14", "-target bpf -O2 -g -fsyntax-only -ferror-limit=5 layout.c", dir.FullName);

            // A CO-RE program: the pragma makes task->real_parent->tgid a relocatable access.
            File.WriteAllText(Path.Combine(dir.FullName, "core.c"), """
                #include "vmlinux.h"
                __attribute__((section("tracepoint/sched/sched_process_exec"), used))
                int on_exec(struct trace_event_raw_sched_process_exec *ctx)
                {
                    struct task_struct *task = (struct task_struct *)((long (*)(void))35)();
                    struct task_struct *parent;
                    int tgid;
                    __builtin_memcpy(&parent, &task->real_parent, sizeof(parent)); /* stand-ins for bpf_probe_read */
                    __builtin_memcpy(&tgid, &parent->tgid, sizeof(tgid));
                    return tgid + ctx->pid;
                }
                char LICENSE[] __attribute__((section("license"), used)) = "GPL";
                """);
            Corpus.TryRun("clang-14", "-target bpf -O2 -g -c core.c -o core.o", dir.FullName);
            var spec = ObjectSpec.ReadFile(Path.Combine(dir.FullName, "core.o"));
            var relocated = spec.Programs.Single().CoreRelocations.Select(r => r.AccessString.Length > 0 ? BtfSpec.DisplayName(r.Type) : string.Empty).ToList();
            Assert.Contains("struct task_struct", relocated);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static bool EmbedsVaList(BtfType t, Dictionary<uint, bool> memo, int depth)
    {
        if (depth > 64) return false;
        switch (t)
        {
            case BtfTypedef { Name: "__builtin_va_list" }: return true;
            case BtfTypedef or BtfQualifier or BtfTypeTag: return EmbedsVaList(((BtfReferenceType)t).Target, memo, depth + 1);
            case BtfArray a: return EmbedsVaList(a.ElementType, memo, depth + 1);
            case BtfComposite c:
                if (memo.TryGetValue(c.Id, out var known)) return known;
                return memo[c.Id] = c.Members.Any(m => EmbedsVaList(m.Type, memo, depth + 1));
            default: return false;
        }
    }
}
