package org.hnet.analysis;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A deterministic, plausible-looking 2-stage chunking of a short text for the HTML tests and the
 * screenshot (no model here): stage 0 starts chunks after separators and inside long words, stage 1
 * keeps roughly every third stage-0 boundary that follows a space or punctuation.
 */
final class ExampleChunking {
  static final String TEXT =
      "The Grand Canyon—carved by the Colorado River over millions of years—is 446 km long.\n"
          + "Tokenizer-free models read raw bytes: “naïve café” costs more bytes than \"naive"
          + " cafe\", and 東京 costs three per character.\n"
          + "H-Net learns where chunks begin, then compresses them again in the next stage.";

  final byte[] text;
  final List<boolean[]> boundaries;
  final List<float[]> probs;

  ExampleChunking(String s, long seed) {
    text = s.getBytes(StandardCharsets.UTF_8);
    int n = text.length;
    boolean[] sep = ChunkStats.separators(text);
    SplittableRandom rng = new SplittableRandom(seed);
    float[] p0 = new float[n];
    float[] p1 = new float[n];
    boolean[] b0 = new boolean[n];
    boolean[] b1 = new boolean[n];
    int run = 0;
    int sinceStage1 = 0;
    for (int t = 0; t < n; t++) {
      boolean cont = (text[t] & 0xc0) == 0x80;
      run = sep[t] ? 0 : run + 1;
      double p;
      if (t == 0) {
        p = 1;
      } else if (cont) {
        p = 0.02 * rng.nextDouble();
      } else if (sep[t - 1] && !sep[t]) {
        // Most word starts, but not all (a real router merges some short words).
        p = rng.nextDouble() < 0.1 ? 0.45 * rng.nextDouble() : 0.75 + 0.25 * rng.nextDouble();
      } else if (run >= 4 && rng.nextDouble() < 0.3) {
        p = 0.5 + 0.3 * rng.nextDouble();
      } else {
        p = 0.3 * rng.nextDouble();
      }
      p0[t] = (float) p;
      b0[t] = p >= 0.5;
      p1[t] = Float.NaN;
      if (b0[t]) {
        sinceStage1++;
        double q =
            t == 0
                ? 1
                : (sep[t - 1] && sinceStage1 >= 3
                    ? 0.6 + 0.4 * rng.nextDouble()
                    : 0.55 * rng.nextDouble());
        p1[t] = (float) q;
        b1[t] = q >= 0.5;
        if (b1[t]) sinceStage1 = 0;
      }
    }
    boundaries = List.of(b0, b1);
    probs = List.of(p0, p1);
  }
}
