using Bpf.Cli;

return BpfNetCli.Run(args, CliContext.Console());
