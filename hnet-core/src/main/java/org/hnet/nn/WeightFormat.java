package org.hnet.nn;

import java.util.Locale;
import org.hnet.config.HNetConfig;
import org.hnet.kernels.CompactWeight;

/**
 * How a model holds the weights of its large products (the Linear layers of the mixers and MLPs)
 * for inference: float32, bfloat16, or 8-bit groups with a float32 scale per 32 weights (see {@link
 * CompactWeight}). Everything else stays float32 whatever the format: embeddings, the LM head, the
 * norms, the routing projections, the residual projection, the convolutions and the SSM parameters;
 * so do the residual stream and every accumulation. Training needs {@link #F32}.
 */
public enum WeightFormat {
  F32,
  BF16,
  INT8;

  /** The lower-case name used by the command line and in files ({@code f32}, {@code bf16}, ...). */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The format a label names (any case); null for anything else. */
  public static WeightFormat parse(String label) {
    for (WeightFormat f : values()) if (f.label().equalsIgnoreCase(label)) return f;
    return null;
  }

  /**
   * Bytes a model of {@code cfg} loaded in this format holds in its weights, as {@link
   * Param#bytes()} counts them: [0] the embeddings and the LM head (once if tied), [s + 1] stage
   * s's own parameters ({@link HNetConfig#parameterCount(int)}'s), the large products' weights
   * ({@link HNetConfig#productWeights()}) in this format, everything else float32. A loaded model
   * holds these plus the JVM, buffers and caches.
   */
  public long[] bytesPerStage(HNetConfig cfg) {
    long[] b = new long[cfg.numStages() + 1];
    b[0] = 4 * cfg.embeddingParameterCount();
    java.util.Set<String> products = cfg.productWeights();
    java.util.Map<String, Integer> stages = cfg.parameterStages();
    CompactWeight.Format c = compact();
    for (var e : cfg.parameterShapes().entrySet()) {
      int s = stages.get(e.getKey());
      if (s < 0) continue; // embeddings, lm_head: counted above
      int[] shape = e.getValue();
      b[s + 1] +=
          c != null && products.contains(e.getKey())
              ? CompactWeight.bytes(c, shape[0], shape[1])
              : 4 * Param.numel(shape);
    }
    return b;
  }

  /**
   * Bytes a batch-1 decoding step of a model of {@code cfg} in this format reads on average: the LM
   * head and one embedding row at every step (float32), and stage s's own weights ({@link
   * #bytesPerStage}) in the share {@code ran[s]} of the steps where it runs ({@code ran[0]} = 1; at
   * a compression of N_i bytes per chunk in stage i, ran[s] = 1 / (N_0 ··· N_(s-1))).
   */
  public double bytesPerStep(HNetConfig cfg, double[] ran) {
    if (ran.length != cfg.numStages())
      throw new IllegalArgumentException(ran.length + " shares for " + cfg.numStages() + " stages");
    int d0 = cfg.stage(0).dModel();
    long[] b = bytesPerStage(cfg);
    double bytes = 4.0 * ((double) cfg.vocabSize() * d0 + d0);
    for (int s = 0; s < ran.length; s++) bytes += b[s + 1] * ran[s];
    return bytes;
  }

  /** The compact storage of this format (null for F32). */
  CompactWeight.Format compact() {
    return switch (this) {
      case F32 -> null;
      case BF16 -> CompactWeight.Format.BF16;
      case INT8 -> CompactWeight.Format.INT8;
    };
  }
}
