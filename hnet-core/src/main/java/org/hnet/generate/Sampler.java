package org.hnet.generate;

import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Picks the next byte of one generated row from that row's logits.
 *
 * <p>One instance per row; not thread-safe. Each sampler owns a {@link SplittableRandom} seeded
 * from {@link SamplingOptions#seed()}, so a row's output depends only on its seed and its own
 * logits, never on how many other rows are generated beside it or in which order they are sampled.
 *
 * <p>Procedure (all probabilities in double):
 *
 * <ol>
 *   <li>temperature 0: argmax, the lowest index on ties; the random stream is not used.
 *   <li>otherwise softmax(logits / T).
 *   <li>top-k (when 0 &lt; k &lt; V): keep the k largest logits. Candidates are ordered by logit
 *       descending and then by index ascending, so on a tie at the k-th value the lower indices are
 *       kept.
 *   <li>top-p (when topP &lt; 1), applied to what top-k kept, in the same order: keep the shortest
 *       prefix whose cumulative probability (renormalised over the top-k set) is ≥ topP. At least
 *       one byte is always kept; bytes tied with the last kept one but later in the order are
 *       dropped.
 *   <li>renormalise over the kept set and draw with one uniform double.
 * </ol>
 *
 * <p>When neither filter is active the candidates are walked in index order and nothing is sorted.
 * Logits may be −∞ (masked bytes get probability 0); +∞ logits share all the mass equally; NaN is
 * rejected. Scratch arrays are owned by the sampler and only grow when V does, so sampling a byte
 * allocates nothing.
 */
public final class Sampler {
  private final SamplingOptions options;
  private final SplittableRandom random;

  // Scratch, sized to the largest V seen (256 for bytes).
  private double[] weight = new double[256]; // unnormalised probability per candidate position
  private int[] order = new int[256]; // candidate token ids, in draw order
  private int[] mergeTmp = new int[256];

  public Sampler(SamplingOptions options) {
    this.options = Objects.requireNonNull(options, "options");
    this.random = new SplittableRandom(options.seed());
  }

  public SamplingOptions options() {
    return options;
  }

  /**
   * Samples one token from {@code logits[off, off + V)}.
   *
   * @return a token id in [0, V)
   * @throws IllegalArgumentException if a logit is NaN
   */
  public int sample(float[] logits, int off, int V) {
    checkRange(logits, off, V);
    if (options.isGreedy()) {
      return argmax(logits, off, V);
    }
    int n = filter(logits, off, V);
    double total = 0;
    for (int i = 0; i < n; i++) total += weight[i];
    double u = random.nextDouble() * total;
    double cum = 0;
    int lastPositive = -1;
    for (int i = 0; i < n; i++) {
      double w = weight[i];
      if (w > 0) {
        cum += w;
        lastPositive = i;
        if (u < cum) return order[i];
      }
    }
    // Only reached when u·total rounded up to total: the last byte with any mass takes it.
    return order[lastPositive];
  }

  /**
   * Writes the distribution that {@link #sample} would draw from (after temperature, top-k and
   * top-p, renormalised) without drawing: the kept tokens in draw order and their probabilities.
   * For greedy options it is the argmax with probability 1. Meant for inspection and tests.
   *
   * @param tokens receives the kept token ids; needs room for V
   * @param probs receives their probabilities, summing to 1; needs room for V
   * @return how many tokens were kept
   */
  public int distribution(float[] logits, int off, int V, int[] tokens, double[] probs) {
    checkRange(logits, off, V);
    if (options.isGreedy()) {
      tokens[0] = argmax(logits, off, V);
      probs[0] = 1;
      return 1;
    }
    int n = filter(logits, off, V);
    double total = 0;
    for (int i = 0; i < n; i++) total += weight[i];
    for (int i = 0; i < n; i++) {
      tokens[i] = order[i];
      probs[i] = weight[i] / total;
    }
    return n;
  }

  /**
   * log softmax(logits)[token] at temperature 1, in double: how likely the model found a byte
   * regardless of the sampling options.
   */
  public static double logProb(float[] logits, int off, int V, int token) {
    checkRange(logits, off, V);
    Objects.checkIndex(token, V);
    float max = max(logits, off, V);
    double x = logits[off + token];
    if (max == Float.POSITIVE_INFINITY || max == Float.NEGATIVE_INFINITY) {
      // Degenerate rows: the mass is shared by the bytes at the maximum.
      int ties = 0;
      for (int v = 0; v < V; v++) if (logits[off + v] == max) ties++;
      return x == max ? -Math.log(ties) : Double.NEGATIVE_INFINITY;
    }
    double sum = 0;
    for (int v = 0; v < V; v++) sum += Math.exp((double) logits[off + v] - max);
    return (x - max) - Math.log(sum);
  }

  /** Argmax of {@code logits[off, off + V)}, the lowest index on ties. */
  public static int argmax(float[] logits, int off, int V) {
    checkRange(logits, off, V);
    int best = 0;
    float bestValue = logits[off];
    if (Float.isNaN(bestValue)) throw nan(0);
    for (int v = 1; v < V; v++) {
      float x = logits[off + v];
      if (x > bestValue) { // strict: the first maximum wins
        bestValue = x;
        best = v;
      } else if (Float.isNaN(x)) {
        throw nan(v);
      }
    }
    return best;
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Fills {@code order[0, n)} and {@code weight[0, n)} with the candidates left after temperature,
   * top-k and top-p; weights are exp((logit − max) / T), not normalised. Returns n ≥ 1.
   */
  private int filter(float[] logits, int off, int V) {
    ensureCapacity(V);
    float max = max(logits, off, V);
    double invT = 1.0 / options.temperature();
    int k = options.topK();
    boolean topK = k > 0 && k < V;
    boolean topP = options.topP() < 1;
    for (int v = 0; v < V; v++) order[v] = v;
    if (topK || topP) sortByLogitDescending(logits, off, V);
    int n = topK ? k : V;
    for (int i = 0; i < n; i++) {
      float x = logits[off + order[i]];
      // x == max covers the max itself and the ±∞ rows, where x − max would be NaN.
      weight[i] = x == max ? 1.0 : Math.exp(((double) x - max) * invT);
    }
    if (topP) {
      double total = 0;
      for (int i = 0; i < n; i++) total += weight[i];
      double threshold = options.topP() * total;
      double cum = 0;
      int kept = 0;
      // Candidates are sorted, so the shortest prefix reaching the threshold is the nucleus.
      while (kept < n) {
        cum += weight[kept++];
        if (cum >= threshold) break;
      }
      n = kept;
    }
    return n;
  }

  /**
   * Stable bottom-up merge sort of {@code order[0, V)} (initially 0..V−1) by logit descending, so
   * equal logits stay in ascending index order. No allocation: merges through {@code mergeTmp}.
   */
  private void sortByLogitDescending(float[] logits, int off, int V) {
    int[] src = order;
    int[] dst = mergeTmp;
    for (int width = 1; width < V; width <<= 1) {
      for (int lo = 0; lo < V; lo += width << 1) {
        int mid = Math.min(lo + width, V);
        int hi = Math.min(lo + (width << 1), V);
        int i = lo;
        int j = mid;
        int o = lo;
        while (i < mid && j < hi) {
          // Take from the right run only when strictly larger: that keeps the sort stable.
          if (logits[off + src[j]] > logits[off + src[i]]) {
            dst[o++] = src[j++];
          } else {
            dst[o++] = src[i++];
          }
        }
        while (i < mid) dst[o++] = src[i++];
        while (j < hi) dst[o++] = src[j++];
      }
      int[] t = src;
      src = dst;
      dst = t;
    }
    if (src != order) System.arraycopy(src, 0, order, 0, V);
  }

  private void ensureCapacity(int V) {
    if (order.length < V) {
      weight = new double[V];
      order = new int[V];
      mergeTmp = new int[V];
    }
  }

  /** Maximum of the row; throws on NaN so that no later step has to think about it. */
  private static float max(float[] logits, int off, int V) {
    float max = Float.NEGATIVE_INFINITY;
    for (int v = 0; v < V; v++) {
      float x = logits[off + v];
      if (Float.isNaN(x)) throw nan(v);
      if (x > max) max = x;
    }
    return max;
  }

  private static void checkRange(float[] logits, int off, int V) {
    if (V < 1) throw new IllegalArgumentException("V must be >= 1; got " + V);
    Objects.checkFromIndexSize(off, V, logits.length);
  }

  private static IllegalArgumentException nan(int v) {
    return new IllegalArgumentException("logit " + v + " is NaN");
  }
}
