package org.hnet.config;

import org.hnet.HNetException;

/**
 * The {@code tokenizer} field of a token-level baseline's config: {@code "r50k_base:K"}, GPT-2's
 * byte-level BPE vocabulary cut to its first K ranks (256 ≤ K ≤ 50256), or {@code "r50k_base"} (all
 * of them). The model's ids are those K tokens and one document separator (id K), so its {@code
 * vocab_size} is K + 1. Byte-level models (every official config) have no tokenizer.
 */
public final class TokenizerSpec {
  /** The one vocabulary offered. */
  public static final String R50K = "r50k_base";

  /** Mergeable ranks in r50k_base (its id 50256 is the special end-of-text token). */
  public static final int R50K_RANKS = 50256;

  private TokenizerSpec() {}

  /**
   * Checks {@code spec} against {@code vocabSize}; returns the number of ranks K. Errors name
   * {@code source} and the field.
   */
  public static int ranks(String spec, int vocabSize, String source) {
    int k;
    if (spec.equals(R50K)) {
      k = R50K_RANKS;
    } else if (spec.startsWith(R50K + ":")) {
      try {
        k = Integer.parseInt(spec.substring(R50K.length() + 1));
      } catch (NumberFormatException e) {
        k = -1;
      }
      if (k < 256 || k > R50K_RANKS) {
        throw new HNetException(
            source
                + ": tokenizer \""
                + shown(spec)
                + "\": the number of ranks must be an integer in [256, "
                + R50K_RANKS
                + "]");
      }
    } else {
      throw new HNetException(
          source
              + ": tokenizer must be \""
              + R50K
              + "\" or \""
              + R50K
              + ":K\" (GPT-2's BPE cut to K ranks), got \""
              + shown(spec)
              + "\"");
    }
    if (vocabSize != k + 1) {
      throw new HNetException(
          source
              + ": vocab_size must be "
              + (k + 1)
              + " with tokenizer \""
              + shown(spec)
              + "\" (its "
              + k
              + " tokens and a document separator), got "
              + vocabSize);
    }
    return k;
  }

  /** The value as printed in a message: control characters escaped, at most 60 characters. */
  private static String shown(String s) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length() && sb.length() < 60; i++) {
      char c = s.charAt(i);
      if (Character.isISOControl(c)) sb.append(String.format("\\u%04x", (int) c));
      else sb.append(c);
    }
    return sb.length() < 60 ? sb.toString() : sb + "…";
  }
}
