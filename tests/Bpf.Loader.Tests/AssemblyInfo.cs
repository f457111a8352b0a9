// Tests count this process's open descriptors and create network namespaces and cgroups: run them one at a time.
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]
