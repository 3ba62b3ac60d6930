package org.hnet.config;

/**
 * Mamba-2 settings of one stage ({@code ssm_cfg}, resolved for that stage).
 *
 * <p>Defaults are those of the reference's {@code SSMConfig} dataclass. The head dimension is not
 * in the config format: the reference builds {@code Mamba2} with mamba_ssm's default {@code
 * headdim=64} and {@code ngroups=1}, so both are fixed here.
 */
public record SsmConfig(int dState, int expand, int dConv, int chunkSize) {
  /** Mamba-2 head dimension (mamba_ssm default, not configurable in the official format). */
  public static final int HEAD_DIM = 64;

  /** mamba_ssm default; B and C are shared by all heads. */
  public static final int N_GROUPS = 1;

  public static final SsmConfig DEFAULT = new SsmConfig(128, 2, 4, 256);

  public SsmConfig {
    if (dState < 1 || expand < 1 || dConv < 1 || chunkSize < 1) {
      throw new IllegalArgumentException(
          "ssm settings must be >= 1: d_state="
              + dState
              + " expand="
              + expand
              + " d_conv="
              + dConv
              + " chunk_size="
              + chunkSize);
    }
  }

  public int headDim() {
    return HEAD_DIM;
  }

  /** Width of the SSM's inner stream: expand * d. */
  public int dInner(int d) {
    return expand * d;
  }

  public int nHeads(int d) {
    return dInner(d) / HEAD_DIM;
  }

  /** Channels of the depthwise convolution: [x | B | C]. */
  public int convDim(int d) {
    return dInner(d) + 2 * N_GROUPS * dState;
  }

  /** Output rows of in_proj: [z | x | B | C | dt]. */
  public int inProjDim(int d) {
    return 2 * dInner(d) + 2 * N_GROUPS * dState + nHeads(d);
  }
}
