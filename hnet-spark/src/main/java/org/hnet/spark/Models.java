package org.hnet.spark;

import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import org.hnet.HNetModel;
import org.hnet.kernels.Parallel;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.WeightFormat;

/**
 * The models of this JVM, loaded once per (path, weights) and shared by every task that runs in it:
 * an executor loads a model when its first task needs it, and later tasks find it loaded.
 */
final class Models {
  private Models() {}

  private static final ConcurrentHashMap<String, HNetForCausalLM> LOADED =
      new ConcurrentHashMap<>();

  /** How many times this JVM has loaded a model (tests: once per JVM, not once per task). */
  static final java.util.concurrent.atomic.AtomicInteger LOADS =
      new java.util.concurrent.atomic.AtomicInteger();

  static HNetForCausalLM get(String path, WeightFormat weights, int threads) {
    if (threads > 0) Parallel.setThreads(threads);
    return LOADED.computeIfAbsent(
        path + "|" + weights,
        k -> {
          LOADS.incrementAndGet();
          return HNetModel.load(Path.of(path), weights).model();
        });
  }
}
