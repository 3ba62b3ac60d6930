package org.hnet.kernels;

/**
 * The SSM's per-head weights and its dimensions: dtBias, A_log and D [H] (or, for the backward,
 * their gradient buffers), H heads of P = headDim channels, N = state size.
 */
public record SsdHeads(float[] dtBias, float[] aLog, float[] d, int heads, int headDim, int state) {
  public SsdHeads {
    if (heads < 0 || headDim < 0 || state < 0)
      throw new IllegalArgumentException("negative dimension");
    if (dtBias.length < heads || aLog.length < heads || d.length < heads)
      throw new IllegalArgumentException("dtBias, A_log and D need " + heads + " values each");
  }
}
