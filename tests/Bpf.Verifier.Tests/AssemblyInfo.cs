// The kernel-facing tests call Linux-only loader API; they check OperatingSystem.IsLinux() at run time and
// skip (or fail under BPFNET_REQUIRE_KERNEL=1) elsewhere. The analyzer cannot see that guard.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
