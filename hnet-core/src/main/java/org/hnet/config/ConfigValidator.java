package org.hnet.config;

import java.util.List;
import java.util.Locale;
import org.hnet.HNetException;

/**
 * Cross-field checks of a config: the constraints the reference's modules assert (or silently need)
 * when they are built. Field names in messages are those of the JSON format.
 */
final class ConfigValidator {
  /** DeChunkLayer's headdim: the dechunk EMA runs as a Mamba-2 scan with 32-wide heads. */
  static final int DECHUNK_HEAD_DIM = 32;

  private ConfigValidator() {}

  static void validate(List<StageConfig> stages, int vocabSize, String source) {
    if (stages == null || stages.isEmpty()) {
      throw error(source, "arch_layout has no stages");
    }
    if (vocabSize < 1) {
      throw error(source, "vocab_size must be >= 1, got " + vocabSize);
    }
    for (int s = 0; s < stages.size(); s++) {
      StageConfig st = stages.get(s);
      boolean last = s == stages.size() - 1;
      if (st.index() != s) {
        throw error(source, "stage at position " + s + " has index " + st.index());
      }
      if (st.innermost() != last) {
        throw error(source, "arch_layout: only the last stage may be innermost (stage " + s + ")");
      }
      validateStage(st, s == 0 ? null : stages.get(s - 1), source);
    }
  }

  private static void validateStage(StageConfig st, StageConfig outer, String source) {
    int s = st.index();
    int d = st.dModel();
    if (outer != null && d < outer.dModel()) {
      throw error(
          source,
          String.format(
              Locale.ROOT,
              "d_model[%d] = %d is smaller than d_model[%d] = %d; d_model must not decrease inward",
              s,
              d,
              s - 1,
              outer.dModel()));
    }
    if (!st.innermost() && d % DECHUNK_HEAD_DIM != 0) {
      throw error(
          source,
          String.format(
              Locale.ROOT,
              "d_model[%d] = %d must be a multiple of %d at a non-innermost stage (dechunk layer)",
              s,
              d,
              DECHUNK_HEAD_DIM));
    }
    if (st.usesMlp() && st.dIntermediate() == 0) {
      char letter =
          st.allBlocks().stream().filter(BlockSpec::hasMlp).findFirst().orElseThrow().letter();
      throw error(
          source,
          String.format(
              Locale.ROOT,
              "d_intermediate[%d] is 0 but stage %d of arch_layout has '%c' blocks, which need an"
                  + " MLP",
              s,
              s,
              letter));
    }
    if (st.usesMamba()) {
      long inner = (long) st.ssm().expand() * d;
      if (inner % SsmConfig.HEAD_DIM != 0 || inner > Integer.MAX_VALUE / 4) {
        throw error(
            source,
            String.format(
                Locale.ROOT,
                "ssm_cfg.expand * d_model[%d] = %d * %d = %d must be a multiple of %d (Mamba-2"
                    + " head dim)",
                s,
                st.ssm().expand(),
                d,
                inner,
                SsmConfig.HEAD_DIM));
      }
    }
    if (st.usesAttention()) {
      AttnConfig a = st.attn();
      if (d % a.numHeads() != 0) {
        throw error(
            source,
            String.format(
                Locale.ROOT,
                "d_model[%d] = %d is not divisible by attn_cfg.num_heads = %d (stage %d)",
                s,
                d,
                a.numHeads(),
                s));
      }
      int headDim = a.headDim(d);
      if (a.rotaryEmbDim() % 2 != 0 || a.rotaryEmbDim() > headDim) {
        throw error(
            source,
            String.format(
                Locale.ROOT,
                "attn_cfg.rotary_emb_dim = %d (stage %d) must be even and at most the head dim"
                    + " %d",
                a.rotaryEmbDim(),
                s,
                headDim));
      }
    }
  }

  static HNetException error(String source, String message) {
    return new HNetException(source + ": " + message);
  }
}
