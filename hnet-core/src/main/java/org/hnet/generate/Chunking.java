package org.hnet.generate;

import java.util.ArrayList;
import java.util.List;
import org.hnet.analysis.ChunkStats;
import org.hnet.nn.HNetForCausalLM;

/**
 * A text as a model chunks it: the boundaries and boundary probabilities of every stage at the byte
 * level, and their statistics.
 *
 * @param text the bytes
 * @param boundaries per stage, true where a chunk starts (the first byte always does)
 * @param probs per stage, each byte's boundary probability (NaN where the stage has no position)
 * @param stats chunk lengths, word alignment and frequent chunks per stage
 */
public record Chunking(
    byte[] text, List<boolean[]> boundaries, List<float[]> probs, ChunkStats stats) {
  /**
   * Runs the model over BOS + text. The first byte of the text always starts a chunk at every stage
   * (a text starts a chunk whatever the router says after BOS), so the statistics and the views see
   * every byte inside a chunk.
   */
  public static Chunking of(HNetForCausalLM lm, byte[] text, int topN) {
    lm.requireBytes("chunk views");
    Scorer.Score s = Scorer.score(lm, text);
    List<boolean[]> b = new ArrayList<>();
    for (boolean[] m : s.boundaries()) {
      boolean[] c = m.clone();
      if (c.length > 0) c[0] = true;
      b.add(c);
    }
    return new Chunking(text, b, s.probs(), ChunkStats.compute(text, b, topN));
  }
}
