package org.hnet.train;

import org.hnet.HNetException;
import org.hnet.kernels.CrossEntropy;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.RoutingModule;
import org.hnet.nn.SeqLens;
import org.hnet.nn.Tape;

/**
 * The training objective: next-byte cross-entropy (mean over positions with a target) + α · Σ_s
 * ratio loss of stage s with target compression N_s (paper eq. 10: N/(N−1)·((N−1)·F·G +
 * (1−F)(1−G)), F the share of positions selected, G the mean boundary probability over every
 * stage-s position; the reference's {@code load_balancing_loss} in hnet/utils/train.py), with its
 * forward and backward through a model.
 *
 * <p>One Objective per model and training loop: it owns the tape and the buffers of ∂logits and ∂p,
 * reused from step to step (nothing is allocated once a batch shape has been seen).
 */
public final class Objective {
  /** The objective of one batch and its parts; the output belongs to the model's training arena. */
  public record Losses(double ce, double[] ratio, double total, HNetForCausalLM.Output output) {}

  private final HNetForCausalLM lm;
  private final Tape tape = new Tape();
  private final float[][] dProb;
  private float[] dLogits = new float[0];
  private double[] nll = new double[0];

  public Objective(HNetForCausalLM lm) {
    this.lm = lm;
    this.dProb = new float[lm.config.numStages() - 1][];
  }

  /**
   * Forward and backward of the objective over one batch of packed sequences; adds d total / d
   * param into every parameter's gradient buffer. The returned output's logits and routing arrays
   * are overwritten by the next call.
   *
   * @param targets [T] the next byte of every position, or −1 where there is none
   * @param ratioTargets N per routing stage, outer stage first (length = stages − 1)
   */
  public Losses lossAndGradients(
      int[] tokens, int[] targets, SeqLens seqs, double[] ratioTargets, double alpha) {
    int routers = dProb.length;
    if (ratioTargets.length != routers) {
      throw new HNetException(
          "this model has "
              + routers
              + " routing stage(s) but "
              + ratioTargets.length
              + " ratio target(s) were given");
    }
    for (double n : ratioTargets) {
      if (!(n > 1)) throw new HNetException("a ratio target N must be greater than 1, got " + n);
    }
    int T = seqs.total(), vocab = lm.vocab;
    tape.clear();
    HNetForCausalLM.Output out = lm.forward(tokens, seqs, tape);
    if (dLogits.length < T * vocab) dLogits = new float[T * vocab];
    if (nll.length < T) nll = new double[T];
    double ce = CrossEntropy.forwardBackward(out.logits(), targets, T, vocab, dLogits, nll);

    double[] ratio = new double[routers];
    double total = ce;
    for (int s = 0; s < routers; s++) {
      RoutingModule.Output r = out.routing().get(s);
      int n = r.boundaryProb().length;
      double f = 0, g = 0;
      for (int t = 0; t < n; t++) {
        if (r.boundaryMask()[t]) f++;
        g += r.boundaryProb()[t];
      }
      f /= n;
      g /= n;
      if (!lm.config.stage(s).router().learned()) {
        // a rule-based stage: nothing learns where its boundaries go, so no ratio loss
        if (dProb[s] == null || dProb[s].length < n) dProb[s] = new float[n];
        java.util.Arrays.fill(dProb[s], 0, n, 0f);
        continue;
      }
      double bigN = ratioTargets[s];
      ratio[s] = bigN / (bigN - 1) * ((bigN - 1) * f * g + (1 - f) * (1 - g));
      total += alpha * ratio[s];
      // F carries no gradient (the mask is a hard decision); ∂/∂G spread evenly over the mean
      float dp = (float) (alpha * bigN / (bigN - 1) * ((bigN - 1) * f - (1 - f)) / n);
      if (dProb[s] == null || dProb[s].length < n)
        dProb[s] = new float[Math.max(n, 2 * (dProb[s] == null ? 0 : dProb[s].length))];
      java.util.Arrays.fill(dProb[s], 0, n, dp);
    }
    lm.backward(dLogits, dProb, tape);
    if (!tape.isEmpty()) throw new IllegalStateException("the backward left records on the tape");
    return new Losses(ce, ratio, total, out);
  }
}
