// Kernel test runs share the machine's two CPUs with other work; one at a time keeps timings and per-CPU maps sane.
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]
