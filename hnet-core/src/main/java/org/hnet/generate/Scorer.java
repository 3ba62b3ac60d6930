package org.hnet.generate;

import java.util.ArrayList;
import java.util.List;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.RoutingModule;
import org.hnet.nn.SeqLens;

/**
 * Scores a text: the log-probability (natural log) of every byte given the bytes before it (the
 * first given BOS), and the chunk boundaries of every stage at byte level.
 */
public final class Scorer {
  private Scorer() {}

  /**
   * @param logProbs [n] ln p(byte t | bytes before t)
   * @param boundaries per stage, [n]: true where a stage-s chunk starts at byte t
   * @param probs per stage, [n]: the stage's boundary probability at byte t (NaN where the stage
   *     has no position there)
   */
  public record Score(double[] logProbs, List<boolean[]> boundaries, List<float[]> probs) {
    public double bitsPerByte() {
      double s = 0;
      for (double l : logProbs) s -= l;
      return logProbs.length == 0 ? Double.NaN : s / logProbs.length / Math.log(2);
    }
  }

  public static Score score(HNetForCausalLM lm, byte[] text) {
    lm.requireBytes("scoring bytes");
    int n = text.length;
    int[] tokens = new int[n + 1];
    tokens[0] = Generator.BOS;
    for (int i = 0; i < n; i++) tokens[i + 1] = text[i] & 0xff;
    HNetForCausalLM.Output out = lm.forward(tokens, SeqLens.uniform(1, n + 1));
    double[] lp = new double[n];
    for (int t = 0; t < n; t++)
      lp[t] = Sampler.logProb(out.logits(), t * lm.vocab, lm.vocab, tokens[t + 1]);
    // every stage's decisions at byte level; position 0 is the BOS: dropped
    RoutingModule.ByteLevel bl = RoutingModule.byteLevel(out.routing(), n + 1);
    List<boolean[]> bounds = new ArrayList<>();
    List<float[]> probs = new ArrayList<>();
    for (int s = 0; s < bl.boundaries().size(); s++) {
      bounds.add(java.util.Arrays.copyOfRange(bl.boundaries().get(s), 1, n + 1));
      probs.add(java.util.Arrays.copyOfRange(bl.probs().get(s), 1, n + 1));
    }
    return new Score(lp, bounds, probs);
  }
}
