// Kernel test runs share the machine's two CPUs with other work; one at a time keeps timings and per-CPU maps sane.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
