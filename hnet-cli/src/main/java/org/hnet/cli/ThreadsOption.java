package org.hnet.cli;

import org.hnet.kernels.Parallel;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** --threads, shared by the commands that compute; a value below 1 is a usage error. */
final class ThreadsOption {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Worker threads (default: the number of cores).")
  Integer threads;

  void apply() {
    if (threads != null) {
      if (threads < 1) {
        throw new ParameterException(
            spec.commandLine(), "--threads must be at least 1, got " + threads);
      }
      Parallel.setThreads(threads);
    }
  }
}
