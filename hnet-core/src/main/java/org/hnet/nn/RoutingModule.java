package org.hnet.nn;

import java.util.List;
import org.hnet.config.RouterSpec;
import org.hnet.kernels.Ops;
import org.hnet.kernels.Routing;
import org.hnet.tensor.Arena;

/**
 * The dynamic-chunking router (paper eq. 4): p_t = ½(1 − cos(W_q h_{t−1}, W_k h_t)), clamped to [0,
 * 1], forced to 1 at every sequence start; b_t = [p_t > 0.5] (strict, as argmax over (1−p, p) picks
 * the first on a tie).
 */
public final class RoutingModule {
  /** The projections of a learned router; null for a rule-based one ({@link RouterSpec}). */
  public final Linear qProj;

  public final Linear kProj;
  public final int d;
  public final RouterSpec spec;

  /**
   * What the backward needs: the normalised projections [T × d], their norms [T], the starts. The
   * element loops are the kernels' ({@link Routing}).
   */
  static final class Saved {
    float[] q, k, qNorm, kNorm;
    boolean[] start;
    int t;
  }

  /** Where the arena keeps a decision's Output record between steps. */
  private static final class OutputBox {
    Output o;
  }

  RoutingModule(Params ps, String prefix, int stage, int d, RouterSpec spec) {
    this.d = d;
    this.spec = spec;
    this.qProj =
        spec.learned() ? new Linear(ps, prefix + ".q_proj_layer", stage, d, d, false, false) : null;
    this.kProj =
        spec.learned() ? new Linear(ps, prefix + ".k_proj_layer", stage, d, d, false, false) : null;
  }

  /**
   * A rule-based stage's decisions: p = 1 at a boundary (every sequence start, and every {@code
   * stride}-th position, or every spacelike byte), 0 elsewhere; sel = 1 everywhere.
   */
  private Output rule(int[] bytes, SeqLens seqs, Arena w) {
    int T = seqs.total();
    float[] p = w.exactFloats(T), sel = w.exactFloats(T);
    boolean[] mask = w.exactBools(T);
    if (spec.kind() == RouterSpec.Kind.SPACE && bytes == null)
      throw new IllegalStateException("space routing needs the bytes of the sequence");
    for (int i = 0; i < seqs.count(); i++) {
      for (int t = seqs.start(i), pos = 0; t < seqs.start(i) + seqs.length(i); t++, pos++) {
        boolean b = pos == 0 || ruleBoundary(pos, bytes == null ? 0 : bytes[t]);
        p[t] = b ? 1f : 0f;
        mask[t] = b;
        sel[t] = 1f;
      }
    }
    return output(w, p, mask, sel, seqs);
  }

  /** Whether a rule puts a boundary at position {@code pos} (> 0) of a sequence, at byte b. */
  private boolean ruleBoundary(int pos, int b) {
    return spec.kind() == RouterSpec.Kind.FIXED
        ? pos % spec.stride() == 0
        : RouterSpec.spacelike(b);
  }

  /** The routing decision of one stage over its packed sequence. */
  public record Output(
      float[] boundaryProb, boolean[] boundaryMask, float[] selectedProbs, SeqLens seqs) {
    public int boundaries() {
      int n = 0;
      for (boolean b : boundaryMask) if (b) n++;
      return n;
    }
  }

  /**
   * The decisions over the packed sequence h [T × d]; the output's arrays are this router's buffers
   * of w (exactly T long), valid until its next use of w.
   */
  Output forward(float[] h, int[] bytes, SeqLens seqs, Tape tape, Arena w) {
    if (!spec.learned()) return rule(bytes, seqs, w); // nothing recorded: no backward
    int T = seqs.total();
    float[] q = qProj.forward(h, T, tape, w);
    float[] k = kProj.forward(h, T, tape, w);
    // F.normalize(v) = v / max(||v||, 1e-12), applied before the dot product as the reference does
    float[] qn = w.floats(T), kn = w.floats(T);
    Routing.normalizeRows(q, T, d, qn);
    Routing.normalizeRows(k, T, d, kn);
    float[] p = w.exactFloats(T);
    boolean[] mask = w.exactBools(T);
    float[] sel = w.exactFloats(T);
    boolean[] start = starts(seqs, w.exactBools(T));
    Routing.probs(p, mask, sel, q, k, start, T, d);
    if (tape != null) {
      Saved s = tape.push(Saved.class, Saved::new);
      s.q = q;
      s.k = k;
      s.qNorm = qn;
      s.kNorm = kn;
      s.start = start;
      s.t = T;
    }
    return output(w, p, mask, sel, seqs);
  }

  /**
   * The Output of these arrays: the one parked in w when it holds the same ones (no allocation in
   * steady state).
   */
  private Output output(Arena w, float[] p, boolean[] mask, float[] sel, SeqLens seqs) {
    OutputBox box = w.object(OutputBox.class, OutputBox::new);
    if (box.o instanceof Output o
        && o.boundaryProb() == p
        && o.boundaryMask() == mask
        && o.selectedProbs() == sel
        && o.seqs().equals(seqs)) {
      return o;
    }
    return box.o = new Output(p, mask, sel, seqs);
  }

  /**
   * dp [T]: ∂L/∂p → ∂L/∂h [T × d]. The forced p = 1 at sequence starts is a constant and takes no
   * gradient; torch's clamp passes the gradient where 0 ≤ (1 − cos)/2 ≤ 1, which always holds.
   */
  float[] backward(float[] dp, Tape tape, Arena w) {
    if (!spec.learned()) return null; // no weights, no gradient to h
    Saved s = tape.pop(Saved.class);
    int T = s.t;
    float[] dq = w.floats(T * d), dk = w.floats(T * d);
    Routing.probsBackward(dq, dk, dp, s.q, s.k, s.start, T, d);
    Routing.normalizeRowsBackward(dq, s.q, s.qNorm, T, d);
    Routing.normalizeRowsBackward(dk, s.k, s.kNorm, T, d);
    float[] dhk = kProj.backward(dk, tape, w); // pushed after q_proj's, so popped first
    float[] dh = qProj.backward(dq, tape, w);
    Ops.addInPlace(dh, 0, dhk, 0, T * d);
    return dh;
  }

  /**
   * Decode state: the last hidden state of every row [R × d] and whether the row has seen a
   * position.
   */
  public record Cache(float[] last, boolean[] seen, int[] count) {}

  public Cache allocate(int rows) {
    return new Cache(new float[rows * d], new boolean[rows], new int[rows]);
  }

  /** After a prefill over the packed prompts: remembers each sequence's last hidden state. */
  public void fill(Cache c, float[] h, SeqLens seqs) {
    for (int i = 0; i < seqs.count(); i++) {
      if (seqs.length(i) == 0) continue;
      System.arraycopy(h, (seqs.start(i) + seqs.length(i) - 1) * d, c.last(), i * d, d);
      c.seen()[i] = true;
      c.count()[i] = seqs.length(i);
    }
  }

  /**
   * One position of R rows (the reference's RoutingModule.step): p = ½(1 − cos(W_q h_prev, W_k h))
   * against the row's previous hidden state, 1 for a row's first position. Inactive rows: p = 0, no
   * boundary. The output (arrays and record) is reused by the next step in w.
   */
  Output step(float[] h, int[] bytes, Cache c, boolean[] active, Arena w) {
    int R = active.length;
    float[] q = null, k = null;
    if (spec.learned()
        && HNet.any(active)) { // an idle stage of a decode step (no row active) reads no weight
      q = qProj.step(c.last(), R, active, w);
      k = kProj.step(h, R, active, w);
      Routing.normalizeRows(q, R, d, w.floats(R));
      Routing.normalizeRows(k, R, d, w.floats(R));
    }
    float[] p = w.exactFloats(R), sel = w.exactFloats(R);
    boolean[] mask = w.exactBools(R);
    for (int r = 0; r < R; r++) {
      if (!active[r]) {
        p[r] = sel[r] = 0f;
        mask[r] = false;
        continue;
      }
      float pt;
      if (!c.seen()[r]) pt = 1f;
      else if (spec.learned()) pt = Routing.prob(q, r * d, k, r * d, d);
      else pt = ruleBoundary(c.count()[r], bytes == null ? 0 : bytes[r]) ? 1f : 0f;
      p[r] = pt;
      mask[r] = pt > 0.5f;
      sel[r] = spec.learned() ? (mask[r] ? pt : 1f - pt) : 1f;
      System.arraycopy(h, r * d, c.last(), r * d, d);
      c.seen()[r] = true;
      c.count()[r]++;
    }
    OutputBox box = w.object(OutputBox.class, OutputBox::new);
    if (box.o instanceof Output o
        && o.boundaryProb() == p
        && o.boundaryMask() == mask
        && o.selectedProbs() == sel
        && o.seqs().count() == R) {
      return o;
    }
    return box.o = new Output(p, mask, sel, SeqLens.uniform(R, 1));
  }

  /**
   * Every stage's decisions mapped back to the byte positions of the flat stage-0 sequence (of T
   * positions): per stage, boundaries[t] is true where a stage-s chunk starts at byte t, and
   * probs[t] is the stage's boundary probability there (NaN where the stage has no position).
   */
  public record ByteLevel(List<boolean[]> boundaries, List<float[]> probs) {}

  public static ByteLevel byteLevel(List<Output> routing, int T) {
    List<boolean[]> bounds = new java.util.ArrayList<>();
    List<float[]> probs = new java.util.ArrayList<>();
    int[] pos = new int[T]; // the byte position of every position of the current stage
    for (int i = 0; i < T; i++) pos[i] = i;
    int count = T;
    for (Output r : routing) {
      boolean[] b = new boolean[T];
      float[] p = new float[T];
      java.util.Arrays.fill(p, Float.NaN);
      int[] next = new int[count];
      int m = 0;
      for (int i = 0; i < count; i++) {
        p[pos[i]] = r.boundaryProb()[i];
        b[pos[i]] = r.boundaryMask()[i];
        if (r.boundaryMask()[i]) next[m++] = pos[i];
      }
      bounds.add(b);
      probs.add(p);
      pos = next;
      count = m;
    }
    return new ByteLevel(bounds, probs);
  }

  /** start [≥ T]: true at the first position of every sequence, false elsewhere. */
  static boolean[] starts(SeqLens seqs, boolean[] start) {
    java.util.Arrays.fill(start, 0, seqs.total(), false);
    for (int i = 0; i < seqs.count(); i++) if (seqs.length(i) > 0) start[seqs.start(i)] = true;
    return start;
  }
}
