using System.Runtime.InteropServices;

namespace Bpf.Loader.Interop;

// One struct per bpf command, mirroring the anonymous structs inside `union bpf_attr` field by field, in
// order, with C alignment (Sequential layout gives 8-byte alignment to ulong on every 64-bit ABI we target).
// Each is passed with its own size: the kernel zero-fills the rest of its (larger) union and rejects
// non-zero bytes past what it knows, so the structs end at the last field we set. Field offsets are checked
// against <linux/bpf.h> by AttrLayoutTests where gcc and the header exist; fields newer than that header
// (log_true_size, prog_token_fd, fd_array_cnt, tcx) follow the kernel's uapi header for 6.6+.
#pragma warning disable CS0649 // fields are written by the kernel or by object initialisers

/// <summary>BPF_MAP_CREATE.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MapCreateAttr
{
    public uint map_type;
    public uint key_size;
    public uint value_size;
    public uint max_entries;
    public uint map_flags;
    public uint inner_map_fd;
    public uint numa_node;
    public fixed byte map_name[16];
    public uint map_ifindex;
    public uint btf_fd;
    public uint btf_key_type_id;
    public uint btf_value_type_id;
    public uint btf_vmlinux_value_type_id;
    public ulong map_extra;
}

/// <summary>BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY, BPF_MAP_LOOKUP_AND_DELETE_ELEM, BPF_MAP_FREEZE.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MapElemAttr
{
    public uint map_fd;
    public ulong key;
    /// <summary><c>value</c> or <c>next_key</c> (a union).</summary>
    public ulong value;
    public ulong flags;
}

/// <summary>BPF_MAP_*_BATCH.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MapBatchAttr
{
    public ulong in_batch;
    public ulong out_batch;
    public ulong keys;
    public ulong values;
    public uint count;
    public uint map_fd;
    public ulong elem_flags;
    public ulong flags;
}

/// <summary>BPF_PROG_LOAD.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ProgLoadAttr
{
    public uint prog_type;
    public uint insn_cnt;
    public ulong insns;
    public ulong license;
    public uint log_level;
    public uint log_size;
    public ulong log_buf;
    public uint kern_version;
    public uint prog_flags;
    public fixed byte prog_name[16];
    public uint prog_ifindex;
    public uint expected_attach_type;
    public uint prog_btf_fd;
    public uint func_info_rec_size;
    public ulong func_info;
    public uint func_info_cnt;
    public uint line_info_rec_size;
    public ulong line_info;
    public uint line_info_cnt;
    public uint attach_btf_id;
    /// <summary><c>attach_prog_fd</c> or <c>attach_btf_obj_fd</c> (a union).</summary>
    public uint attach_prog_fd;
    public uint core_relo_cnt;
    public ulong fd_array;
    public ulong core_relos;
    public uint core_relo_rec_size;
    /// <summary>6.4+: the size the whole log would need; written back by the kernel.</summary>
    public uint log_true_size;
}

/// <summary>BPF_OBJ_PIN, BPF_OBJ_GET.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ObjPinAttr
{
    public ulong pathname;
    public uint bpf_fd;
    public uint file_flags;
}

/// <summary>BPF_PROG_ATTACH, BPF_PROG_DETACH.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ProgAttachAttr
{
    public uint target_fd;
    public uint attach_bpf_fd;
    public uint attach_type;
    public uint attach_flags;
    public uint replace_bpf_fd;
}

/// <summary>BPF_PROG_TEST_RUN.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TestRunAttr
{
    public uint prog_fd;
    public uint retval;
    public uint data_size_in;
    public uint data_size_out;
    public ulong data_in;
    public ulong data_out;
    public uint repeat;
    public uint duration;
    public uint ctx_size_in;
    public uint ctx_size_out;
    public ulong ctx_in;
    public ulong ctx_out;
    public uint flags;
    public uint cpu;
    public uint batch_size;
}

/// <summary>BPF_LINK_CREATE (with the tcx tail, 6.6+; zero for every other attach type).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LinkCreateAttr
{
    public uint prog_fd;
    /// <summary><c>target_fd</c> or <c>target_ifindex</c> (a union).</summary>
    public uint target_fd;
    public uint attach_type;
    public uint flags;
    /// <summary>Start of the per-attach-type union: <c>target_btf_id</c>, or <c>tcx.relative_fd</c>.</summary>
    public uint target_btf_id;
    private uint _pad;
    /// <summary><c>tcx.expected_revision</c>, <c>perf_event.bpf_cookie</c> overlays offset 16 instead.</summary>
    public ulong expected_revision;
}

/// <summary>BPF_OBJ_GET_INFO_BY_FD.</summary>
/// <summary>BPF_*_GET_NEXT_ID (<c>start_id</c>, <c>next_id</c>) and BPF_*_GET_FD_BY_ID (the id in the first word,
/// <c>open_flags</c>): the same three words of <c>union bpf_attr</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ObjIdAttr
{
    public uint start_id;
    public uint next_id;
    public uint open_flags;
}

/// <summary>BPF_ENABLE_STATS: <c>enable_stats.type</c> (BPF_STATS_RUN_TIME = 0).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct EnableStatsAttr
{
    public uint type;
}

[StructLayout(LayoutKind.Sequential)]
internal struct ObjInfoAttr
{
    public uint bpf_fd;
    public uint info_len;
    public ulong info;
}

/// <summary>The head of <c>struct bpf_prog_info</c> (the kernel fills what fits in <c>info_len</c>).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BpfProgInfo
{
    public uint type;
    public uint id;
    public fixed byte tag[8];
    public uint jited_prog_len;
    public uint xlated_prog_len;
    public ulong jited_prog_insns;
    public ulong xlated_prog_insns;
    public ulong load_time;
    public uint created_by_uid;
    public uint nr_map_ids;
    public ulong map_ids;
    public fixed byte name[16];
    public uint ifindex;
    /// <summary>The bit-field word: bit 0 is <c>gpl_compatible</c>.</summary>
    public uint gpl_compatible_word;
    public ulong netns_dev;
    public ulong netns_ino;
    public uint nr_jited_ksyms;
    public uint nr_jited_func_lens;
    public ulong jited_ksyms;
    public ulong jited_func_lens;
    public uint btf_id;
    public uint func_info_rec_size;
    public ulong func_info;
    public uint nr_func_info;
    public uint nr_line_info;
    public ulong line_info;
    public ulong jited_line_info;
    public uint nr_jited_line_info;
    public uint line_info_rec_size;
    public uint jited_line_info_rec_size;
    public uint nr_prog_tags;
    public ulong prog_tags;
    public ulong run_time_ns;
    public ulong run_cnt;
    public ulong recursion_misses;
    public uint verified_insns;
    public uint attach_btf_obj_id;
    public uint attach_btf_id;
    private uint _pad;
}

/// <summary><c>struct bpf_map_info</c> up to <c>map_extra</c> (the kernel fills what it has, up to info_len).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BpfMapInfo
{
    public uint type;
    public uint id;
    public uint key_size;
    public uint value_size;
    public uint max_entries;
    public uint map_flags;
    public fixed byte name[16];
    public uint ifindex;
    public uint btf_vmlinux_value_type_id;
    public ulong netns_dev;
    public ulong netns_ino;
    public uint btf_id;
    public uint btf_key_type_id;
    public uint btf_value_type_id;
    public uint btf_vmlinux_id;
    public ulong map_extra;
}

/// <summary>The first 128 bytes of <c>struct perf_event_attr</c> (PERF_ATTR_SIZE_VER7).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PerfEventAttr
{
    public uint type;
    public uint size;
    public ulong config;
    public ulong sample_period;
    public ulong sample_type;
    public ulong read_format;
    /// <summary>The bit-field word: disabled, inherit, pinned, ... (bit 0 = disabled).</summary>
    public ulong flags;
    public uint wakeup_events;
    public uint bp_type;
    public ulong config1;
    public ulong config2;
    public ulong branch_sample_type;
    public ulong sample_regs_user;
    public uint sample_stack_user;
    public int clockid;
    public ulong sample_regs_intr;
    public uint aux_watermark;
    public ushort sample_max_stack;
    private ushort _reserved2;
    public uint aux_sample_size;
    private uint _reserved3;
    public ulong sig_data;
}
#pragma warning restore CS0649
