package org.hnet.generate;

/**
 * How one generated row picks its next byte from the model's logits; see {@link Sampler}.
 *
 * @param temperature logits are divided by it before the softmax; 0 means greedy (argmax), in which
 *     case topK and topP are ignored
 * @param topK keep only the k most likely bytes before drawing; 0 turns it off (so does k ≥ V)
 * @param topP nucleus: after top-k, keep the smallest set of most likely bytes whose probability
 *     reaches topP; 1 turns it off
 * @param seed seeds the row's own random stream, so a row's output depends only on this seed and
 *     its own logits
 */
public record SamplingOptions(double temperature, int topK, double topP, long seed) {

  public SamplingOptions {
    // The negated comparisons also reject NaN.
    if (!(temperature >= 0) || temperature == Double.POSITIVE_INFINITY) {
      throw new IllegalArgumentException(
          "temperature must be finite and >= 0 (0 = greedy); got " + temperature);
    }
    if (topK < 0) {
      throw new IllegalArgumentException("topK must be >= 0 (0 = off); got " + topK);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("topP must be in (0, 1] (1 = off); got " + topP);
    }
  }

  /** Argmax decoding: no randomness, so the seed is irrelevant. */
  public static SamplingOptions greedy() {
    return new SamplingOptions(0, 0, 1, 0);
  }

  public boolean isGreedy() {
    return temperature == 0;
  }
}
