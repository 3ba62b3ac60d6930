package org.hnet.config;

import java.util.List;

/**
 * Floating-point operations per byte of a model, counted the same way for every layout (H-Net,
 * isotropic, rule-based chunking), so that models can be compared at matched compute. A
 * multiply-add is 2 FLOPs; training is 3 × the forward (the backward of a product costs twice its
 * forward), as in the paper's accounting (Appendix B) and the scaling literature.
 *
 * <p>Per position of a level of width d: Mamba-2 ({@code m}) its in-projection 2·d·(2·d_inner +
 * 2·d_state + heads), depthwise convolution 2·(d_inner + 2·d_state)·d_conv, the scan as its
 * recurrence 4·d_inner·d_state (state update and readout) and out-projection 2·d_inner·d; attention
 * ({@code t}) its projections 2·d·3d + 2·d·d and scores plus weighted values 4·d·c, c the mean
 * number of keys a position attends to in a row of that level; SwiGLU ({@code M}, {@code T}) 2·d·2h
 * + 2·h·d; a learned router 2·2·d·d, the residual projection 2·d·d; the LM head 2·d·V per byte.
 * Norms, activations and the dechunking are left out (a few FLOPs per channel). A level's positions
 * per byte are 1 / (the product of the compressions outside it): the inner lengths of an H-Net
 * depend on the data, so the count takes the measured (or target) compression.
 */
public final class FlopCount {
  private FlopCount() {}

  /** Forward FLOPs per byte, rows of {@code seqLen} bytes, {@code compression[s]} per stage. */
  public static double forwardPerByte(HNetConfig cfg, double[] compression, int seqLen) {
    if (compression.length != cfg.numStages() - 1) {
      throw new IllegalArgumentException(
          cfg.numStages() - 1 + " compression values needed, got " + compression.length);
    }
    double perByte = 2.0 * cfg.stage(0).dModel() * cfg.vocabSize(); // LM head
    double share = 1; // positions of this level per byte
    for (int s = 0; s < cfg.numStages(); s++) {
      StageConfig st = cfg.stage(s);
      double len = Math.max(1, seqLen * share); // positions of a row at this level
      double perPos = 0;
      for (BlockSpec b : st.allBlocks()) perPos += block(st, b, len);
      if (!st.innermost()) {
        int d = st.dModel();
        if (st.router().learned()) perPos += 4.0 * d * d;
        perPos += 2.0 * d * d; // residual projection
      }
      perByte += share * perPos;
      if (!st.innermost()) share /= compression[s];
    }
    return perByte;
  }

  /** Training FLOPs per byte: 3 × {@link #forwardPerByte}. */
  public static double trainingPerByte(HNetConfig cfg, double[] compression, int seqLen) {
    return 3 * forwardPerByte(cfg, compression, seqLen);
  }

  /**
   * Forward FLOPs of one block at one position of a level whose rows have {@code len} positions.
   */
  static double block(StageConfig st, BlockSpec b, double len) {
    int d = st.dModel();
    double f = 0;
    if (b.isMamba()) {
      SsmConfig c = st.ssm();
      int inner = c.dInner(d), n = c.dState();
      f += 2.0 * d * c.inProjDim(d);
      f += 2.0 * c.convDim(d) * c.dConv();
      f += 4.0 * inner * n;
      f += 2.0 * inner * d;
    } else {
      AttnConfig a = st.attn();
      f += 2.0 * d * 3 * d + 2.0 * d * d;
      f += 4.0 * d * meanKeys(len, a.windowSize());
    }
    if (b.hasMlp()) {
      int h = st.mlpHidden();
      f += 2.0 * d * 2 * h + 2.0 * h * d;
    }
    return f;
  }

  /**
   * The mean number of keys a position attends to in a row of {@code len} positions: (len + 1) / 2
   * for global causal attention, each position seeing itself and at most {@code window} before.
   */
  static double meanKeys(double len, int window) {
    if (window < 0 || window + 1 >= len) return (len + 1) / 2;
    double w = window + 1; // the first w positions see 1..w keys, the rest w each
    return (w * (w + 1) / 2 + (len - w) * w) / len;
  }

  /** The compressions hnet trains toward by default: 6 for one stage, 3 per stage with more. */
  public static double[] defaultCompression(HNetConfig cfg) {
    double[] c = new double[cfg.numStages() - 1];
    java.util.Arrays.fill(c, c.length == 1 ? 6 : 3);
    return c;
  }

  /** "1.23 MFLOP", "456 kFLOP". */
  public static String format(double flops) {
    List<String> units = List.of("", "k", "M", "G", "T");
    int u = 0;
    while (flops >= 1000 && u < units.size() - 1) {
      flops /= 1000;
      u++;
    }
    return String.format(java.util.Locale.ROOT, "%.3g %sFLOP", flops, units.get(u));
  }
}
