package org.hnet.config;

/**
 * Causal self-attention settings of one stage ({@code attn_cfg}, resolved for that stage).
 *
 * @param numHeads heads; head_dim = d_model / numHeads
 * @param rotaryEmbDim channels of each head that get rotary embeddings (0: none)
 * @param windowSize how many previous positions each position sees besides itself; -1 for global
 */
public record AttnConfig(int numHeads, int rotaryEmbDim, int windowSize) {
  /** CausalMHA's default rotary dimension when attn_cfg gives none. */
  public static final int DEFAULT_ROTARY_EMB_DIM = 0;

  /** CausalMHA's default window: global attention. */
  public static final int DEFAULT_WINDOW_SIZE = -1;

  public AttnConfig {
    if (numHeads < 1 || rotaryEmbDim < 0 || windowSize < -1) {
      throw new IllegalArgumentException(
          "attention settings out of range: num_heads="
              + numHeads
              + " rotary_emb_dim="
              + rotaryEmbDim
              + " window_size="
              + windowSize);
    }
  }

  public int headDim(int d) {
    return d / numHeads;
  }

  public boolean isGlobal() {
    return windowSize < 0;
  }
}
