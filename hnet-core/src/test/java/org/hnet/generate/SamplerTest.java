package org.hnet.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {

  private static float[] logitsOf(double... probs) {
    float[] l = new float[probs.length];
    for (int i = 0; i < probs.length; i++) l[i] = (float) Math.log(probs[i]);
    return l;
  }

  private static SamplingOptions opts(double t, int k, double p, long seed) {
    return new SamplingOptions(t, k, p, seed);
  }

  /** Counts per token over n draws. */
  private static int[] histogram(Sampler s, float[] logits, int n) {
    int[] c = new int[logits.length];
    for (int i = 0; i < n; i++) c[s.sample(logits, 0, logits.length)]++;
    return c;
  }

  /** Every frequency within 4.5 standard errors of its probability (seeded, so deterministic). */
  private static void assertMatches(double[] expected, int[] counts, int n) {
    for (int i = 0; i < expected.length; i++) {
      double f = (double) counts[i] / n;
      double se = Math.sqrt(expected[i] * (1 - expected[i]) / n);
      if (expected[i] == 0) {
        assertEquals(0, counts[i], "token " + i + " has no mass but was drawn");
      } else {
        assertTrue(
            Math.abs(f - expected[i]) <= 4.5 * se,
            "token " + i + ": frequency " + f + " vs probability " + expected[i]);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Options

  @Test
  void invalidOptionsRejected() {
    assertThrows(IllegalArgumentException.class, () -> opts(-0.1, 0, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> opts(Double.NaN, 0, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> opts(Double.POSITIVE_INFINITY, 0, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> opts(1, -1, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> opts(1, 0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> opts(1, 0, -0.5, 0));
    assertThrows(IllegalArgumentException.class, () -> opts(1, 0, 1.0000001, 0));
    assertThrows(IllegalArgumentException.class, () -> opts(1, 0, Double.NaN, 0));
    opts(0, 0, 1, 0);
    opts(0.7, 50, 1e-9, -3);
    assertTrue(SamplingOptions.greedy().isGreedy());
  }

  @Test
  void invalidInputsRejected() {
    Sampler s = new Sampler(opts(1, 0, 1, 1));
    assertThrows(IndexOutOfBoundsException.class, () -> s.sample(new float[4], 1, 4));
    assertThrows(IllegalArgumentException.class, () -> s.sample(new float[4], 0, 0));
    assertThrows(IllegalArgumentException.class, () -> s.sample(new float[] {0, Float.NaN}, 0, 2));
    assertThrows(
        IllegalArgumentException.class,
        () -> new Sampler(SamplingOptions.greedy()).sample(new float[] {Float.NaN, 0}, 0, 2));
    assertThrows(IndexOutOfBoundsException.class, () -> Sampler.logProb(new float[4], 0, 4, 4));
  }

  // ---------------------------------------------------------------------------------------------
  // Greedy

  @Test
  void greedyIsArgmaxLowestIndexOnTies() {
    Sampler g = new Sampler(SamplingOptions.greedy());
    assertEquals(2, g.sample(new float[] {0, 1, 5, 3}, 0, 4));
    assertEquals(1, g.sample(new float[] {0, 5, 5, 5}, 0, 4));
    assertEquals(0, g.sample(new float[] {7, 7}, 0, 2));
    assertEquals(3, g.sample(new float[] {-1, -1, -1, Float.POSITIVE_INFINITY}, 0, 4));
    assertEquals(0, g.sample(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, 0, 2));
    // Offsets: the row is logits[3, 7).
    assertEquals(1, g.sample(new float[] {99, 99, 99, 0, 4, 4, 1, 99}, 3, 4));
  }

  @Test
  void topKOneIsGreedy() {
    SplittableRandom r = new SplittableRandom(5);
    Sampler g = new Sampler(SamplingOptions.greedy());
    Sampler k1 = new Sampler(opts(1.3, 1, 1, 77));
    Sampler k1p = new Sampler(opts(0.5, 1, 0.3, 78));
    float[] l = new float[256];
    for (int it = 0; it < 500; it++) {
      // Few distinct values, so ties are common.
      for (int v = 0; v < l.length; v++) l[v] = r.nextInt(8);
      int want = g.sample(l, 0, l.length);
      assertEquals(want, k1.sample(l, 0, l.length));
      assertEquals(want, k1p.sample(l, 0, l.length));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Temperature

  @Test
  void drawsMatchSoftmax() {
    double[] p = {0.1, 0.2, 0.3, 0.4};
    int n = 20_000;
    assertMatches(p, histogram(new Sampler(opts(1, 0, 1, 42)), logitsOf(p), n), n);
  }

  @Test
  void temperatureSharpensAndFlattens() {
    double[] p = {0.1, 0.2, 0.3, 0.4};
    float[] l = logitsOf(p);
    int n = 20_000;
    for (double t : new double[] {0.5, 2.0}) {
      // softmax(log p / T) ∝ p^(1/T)
      double[] q = new double[p.length];
      double z = 0;
      for (int i = 0; i < p.length; i++) z += q[i] = Math.pow(p[i], 1 / t);
      for (int i = 0; i < p.length; i++) q[i] /= z;
      assertMatches(q, histogram(new Sampler(opts(t, 0, 1, 7)), l, n), n);
      assertDistribution(new Sampler(opts(t, 0, 1, 7)), l, new int[] {0, 1, 2, 3}, q);
    }
  }

  @Test
  void maskedTokensNeverDrawn() {
    float ninf = Float.NEGATIVE_INFINITY;
    float[] l = {ninf, 0, ninf, 0};
    int[] c = histogram(new Sampler(opts(1, 0, 1, 3)), l, 10_000);
    assertEquals(0, c[0]);
    assertEquals(0, c[2]);
    assertMatches(new double[] {0, 0.5, 0, 0.5}, c, 10_000);
    // A +inf logit takes all the mass.
    float[] inf = {0, Float.POSITIVE_INFINITY, 3};
    int[] ci = histogram(new Sampler(opts(1, 0, 1, 3)), inf, 1000);
    assertEquals(1000, ci[1]);
  }

  // ---------------------------------------------------------------------------------------------
  // Top-k and top-p

  private static void assertDistribution(Sampler s, float[] l, int[] tokens, double[] probs) {
    int[] t = new int[l.length];
    double[] p = new double[l.length];
    int n = s.distribution(l, 0, l.length, t, p);
    assertEquals(tokens.length, n, "kept set size");
    for (int i = 0; i < n; i++) {
      assertEquals(tokens[i], t[i], "token at " + i);
      assertEquals(probs[i], p[i], 1e-6, "probability of token " + t[i]);
    }
  }

  @Test
  void topKKeepsExactlyK() {
    float[] l = {1, 3, 0, 2, 5, 4};
    for (int k = 1; k < l.length; k++) {
      Sampler s = new Sampler(opts(1, k, 1, 11));
      int[] t = new int[6];
      double[] p = new double[6];
      assertEquals(k, s.distribution(l, 0, 6, t, p));
      int[] c = histogram(s, l, 5000);
      int seen = 0;
      for (int v = 0; v < 6; v++) {
        if (c[v] > 0) {
          seen++;
          assertTrue(l[v] >= 5 - (k - 1), "token " + v + " is outside the top " + k);
        }
      }
      assertEquals(k, seen);
    }
    // Exact renormalised probabilities for k = 2: tokens 4 and 5, ∝ e^5 and e^4.
    double e = Math.E;
    assertDistribution(
        new Sampler(opts(1, 2, 1, 0)),
        l,
        new int[] {4, 5},
        new double[] {e / (e + 1), 1 / (e + 1)});
  }

  @Test
  void topKTiesKeepLowerIndices() {
    float[] l = {1, 3, 3, 3, 0};
    assertDistribution(new Sampler(opts(1, 2, 1, 0)), l, new int[] {1, 2}, new double[] {.5, .5});
    int[] c = histogram(new Sampler(opts(1, 2, 1, 0)), l, 2000);
    assertEquals(0, c[3]);
    assertTrue(c[1] > 0 && c[2] > 0);
  }

  @Test
  void topPKeepsSmallestNucleus() {
    // Probabilities 0.1, 0.5, 0.15, 0.25 → sorted 0.5 (1), 0.25 (3), 0.15 (2), 0.1 (0);
    // cumulative 0.5, 0.75, 0.9, 1.0.
    float[] l = logitsOf(0.1, 0.5, 0.15, 0.25);
    assertDistribution(new Sampler(opts(1, 0, 0.3, 0)), l, new int[] {1}, new double[] {1});
    assertDistribution(new Sampler(opts(1, 0, 0.49, 0)), l, new int[] {1}, new double[] {1});
    assertDistribution(
        new Sampler(opts(1, 0, 0.6, 0)), l, new int[] {1, 3}, new double[] {2 / 3.0, 1 / 3.0});
    assertDistribution(
        new Sampler(opts(1, 0, 0.74, 0)), l, new int[] {1, 3}, new double[] {2 / 3.0, 1 / 3.0});
    assertDistribution(
        new Sampler(opts(1, 0, 0.8, 0)),
        l,
        new int[] {1, 3, 2},
        new double[] {0.5 / 0.9, 0.25 / 0.9, 0.15 / 0.9});
    assertDistribution(
        new Sampler(opts(1, 0, 0.95, 0)),
        l,
        new int[] {1, 3, 2, 0},
        new double[] {0.5, 0.25, 0.15, 0.1});
    // Tiny topP still keeps one token.
    assertDistribution(new Sampler(opts(1, 0, 1e-12, 0)), l, new int[] {1}, new double[] {1});
    // Draws only come from the nucleus, in proportion.
    int n = 20_000;
    assertMatches(
        new double[] {0, 2 / 3.0, 0, 1 / 3.0}, histogram(new Sampler(opts(1, 0, 0.6, 9)), l, n), n);
  }

  @Test
  void topPAppliesAfterTopK() {
    // Top-2 keeps tokens 1 and 3 (0.5 and 0.25 → 2/3 and 1/3 renormalised); topP = 0.6 then
    // keeps only token 1, though 0.5 < 0.6 over the full distribution.
    float[] l = logitsOf(0.1, 0.5, 0.15, 0.25);
    assertDistribution(new Sampler(opts(1, 2, 0.6, 0)), l, new int[] {1}, new double[] {1});
    assertDistribution(
        new Sampler(opts(1, 2, 0.7, 0)), l, new int[] {1, 3}, new double[] {2 / 3.0, 1 / 3.0});
  }

  @Test
  void filtersOffChangeNothing() {
    SplittableRandom r = new SplittableRandom(8);
    float[] l = new float[256];
    for (int v = 0; v < l.length; v++) l[v] = (float) r.nextGaussian() * 2;
    // topK = 0, topK ≥ V and topP = 1 are all "off": identical draws for the same seed.
    Sampler off = new Sampler(opts(0.9, 0, 1, 123));
    Sampler kV = new Sampler(opts(0.9, 256, 1, 123));
    Sampler kBig = new Sampler(opts(0.9, 100_000, 1, 123));
    for (int i = 0; i < 2000; i++) {
      int a = off.sample(l, 0, 256);
      assertEquals(a, kV.sample(l, 0, 256));
      assertEquals(a, kBig.sample(l, 0, 256));
    }
    // And the distribution is the plain softmax, in index order.
    int[] t = new int[256];
    double[] p = new double[256];
    assertEquals(256, new Sampler(opts(1, 0, 1, 0)).distribution(l, 0, 256, t, p));
    for (int v = 0; v < 256; v++) {
      assertEquals(v, t[v]);
      assertEquals(Math.exp(Sampler.logProb(l, 0, 256, v)), p[v], 1e-12);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Determinism

  @Test
  void sameSeedSameSequence() {
    SplittableRandom r = new SplittableRandom(1);
    float[][] rows = new float[300][256];
    for (float[] row : rows) for (int v = 0; v < 256; v++) row[v] = (float) r.nextGaussian();
    for (SamplingOptions o :
        new SamplingOptions[] {opts(1, 0, 1, 99), opts(0.8, 40, 0.9, 99), opts(1.5, 0, 0.5, -7)}) {
      Sampler a = new Sampler(o);
      Sampler b = new Sampler(o);
      Sampler other = new Sampler(opts(o.temperature(), o.topK(), o.topP(), o.seed() + 1));
      int[] seqA = new int[rows.length];
      int[] seqB = new int[rows.length];
      int differ = 0;
      for (int i = 0; i < rows.length; i++) {
        seqA[i] = a.sample(rows[i], 0, 256);
        // Interleave another row's sampler: it must not disturb this one.
        if (other.sample(rows[i], 0, 256) != seqA[i]) differ++;
      }
      for (int i = 0; i < rows.length; i++) seqB[i] = b.sample(rows[i], 0, 256);
      assertArrayEquals(seqA, seqB);
      assertTrue(differ > 0, "a different seed should give a different sequence");
    }
  }

  @Test
  void logProbIsLogSoftmax() {
    float[] l = {1f, 2f, -3f, 0.5f};
    double z = 0;
    for (float x : l) z += Math.exp(x);
    for (int v = 0; v < l.length; v++) {
      assertEquals(l[v] - Math.log(z), Sampler.logProb(l, 0, 4, v), 1e-12);
    }
    // Large logits do not overflow.
    float[] big = {1000f, 1000f};
    assertEquals(Math.log(0.5), Sampler.logProb(big, 0, 2, 1), 1e-12);
    float[] masked = {Float.NEGATIVE_INFINITY, 0};
    assertEquals(Double.NEGATIVE_INFINITY, Sampler.logProb(masked, 0, 2, 0));
    assertEquals(0.0, Sampler.logProb(masked, 0, 2, 1), 0);
  }
}
