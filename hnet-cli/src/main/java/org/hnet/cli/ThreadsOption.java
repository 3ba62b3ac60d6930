package org.hnet.cli;

import org.hnet.kernels.Parallel;
import picocli.CommandLine.Option;

/** --threads, shared by the commands that compute. */
final class ThreadsOption {
  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Worker threads (default: the number of cores).")
  Integer threads;

  void apply() {
    if (threads != null) {
      if (threads < 1)
        throw new org.hnet.HNetException("--threads must be at least 1, got " + threads);
      Parallel.setThreads(threads);
    }
  }
}
