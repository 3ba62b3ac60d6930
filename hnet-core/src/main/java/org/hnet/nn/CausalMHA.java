package org.hnet.nn;

import org.hnet.config.AttnConfig;
import org.hnet.kernels.Attention;
import org.hnet.kernels.AttentionBackward;
import org.hnet.kernels.AttentionStep;
import org.hnet.kernels.AttnHeads;
import org.hnet.tensor.Arena;
import org.hnet.tensor.Rows;

/**
 * Causal multi-head self-attention (the reference's CausalMHA): Wqkv (3d, d) laid out (3, H, P), no
 * biases, rotary on the first rotary_emb_dim channels of each head (GPT-NeoX, base 10000), optional
 * sliding window, softmax scale 1/sqrt(P).
 */
public final class CausalMHA implements Mixer {
  public final Linear wqkv;
  public final Linear outProj;
  public final int d, nHeads, headDim, rotaryDim, window;

  /**
   * What the backward needs: qkv [T × 3d], the attention output [T × d], its log-sum-exp [T × H].
   */
  static final class Saved {
    float[] qkv, o, lse;
    SeqLens seqs;
  }

  /** The kernels' dimensions: nHeads, headDim, rotaryDim, window. */
  private final AttnHeads dims;

  CausalMHA(Params ps, String prefix, int stage, int d, AttnConfig cfg) {
    this.d = d;
    this.nHeads = cfg.numHeads();
    this.headDim = d / nHeads;
    this.rotaryDim = cfg.rotaryEmbDim();
    this.window = cfg.windowSize();
    this.wqkv = new Linear(ps, prefix + ".Wqkv", stage, d, 3 * d, false, true);
    this.outProj = new Linear(ps, prefix + ".out_proj", stage, d, d, false, true);
    this.dims = new AttnHeads(nHeads, headDim, rotaryDim, window);
  }

  /**
   * Decode state: per row and head a ring buffer of {@code cap} positions of rotated keys, then the
   * same of values (row r: [2 × H × cap × P], see {@link org.hnet.kernels.AttentionStep#step}):
   * window + 1 positions for a windowed layer, maxLen for a global one; pos[r] is the number of
   * positions row r has seen.
   */
  public record Cache(float[] kv, int cap, int[] pos) {}

  @Override
  public Object allocate(int rows, int maxLen) {
    int cap = window >= 0 ? window + 1 : Math.max(1, maxLen); // the kernel's ring needs w + 1 slots
    return new Cache(new float[rows * cap * 2 * d], cap, new int[rows]);
  }

  @Override
  public float[] prefill(float[] x, SeqLens seqs, Object cache, Arena w) {
    Cache c = (Cache) cache;
    int T = seqs.total();
    float[] qkv = wqkv.forward(x, T, null, w);
    float[] o = w.floats(T * d);
    Rows[] v = w.views(2);
    Rows qv = v[1].set(qkv, 0, T, 3 * d, 3 * d);
    Attention.forward(v[0].set(o, 0, T, d, d), qv, seqs.cu(), seqs.count(), dims);
    for (int i = 0; i < seqs.count(); i++) {
      if (seqs.length(i) > c.cap() && window < 0) {
        throw new IllegalStateException(
            "prompt of " + seqs.length(i) + " positions exceeds the cache of " + c.cap());
      }
      AttentionStep.fillCache(c.kv(), i, c.cap(), qv, seqs.start(i), seqs.length(i), dims);
      c.pos()[i] = seqs.length(i);
    }
    return outProj.forward(o, T, null, w);
  }

  @Override
  public float[] step(float[] x, Object cache, boolean[] active, Arena w) {
    Cache c = (Cache) cache;
    int R = active.length;
    for (int r = 0; r < R; r++) {
      if (active[r] && window < 0 && c.pos()[r] >= c.cap()) {
        throw new org.hnet.HNetException(
            "generation ran past the attention cache of "
                + c.cap()
                + " positions (raise the maximum length)");
      }
    }
    float[] qkv = wqkv.step(x, R, active, w);
    float[] o = w.zeros(R * d); // inactive rows are not written: zero, as a fresh array
    AttentionStep.step(o, qkv, c.kv(), c.cap(), c.pos(), active, R, dims);
    for (int r = 0; r < R; r++) if (active[r]) c.pos()[r]++;
    return outProj.step(o, R, active, w);
  }

  @Override
  public float[] forward(float[] x, SeqLens seqs, Tape tape, Arena w) {
    int T = seqs.total();
    float[] qkv = wqkv.forward(x, T, tape, w); // [T × 3 × H × P]
    float[] o = w.floats(T * d); // [T × H × P]
    Rows[] v = w.views(2);
    Rows ov = v[0].set(o, 0, T, d, d), qv = v[1].set(qkv, 0, T, 3 * d, 3 * d);
    if (tape == null) {
      Attention.forward(ov, qv, seqs.cu(), seqs.count(), dims);
      return outProj.forward(o, T, null, w);
    }
    // the same outputs, with the log-sum-exp the backward needs
    float[] lse = w.floats(T * nHeads);
    AttentionBackward.forwardTrain(ov, lse, qv, seqs.cu(), seqs.count(), dims);
    float[] y = outProj.forward(o, T, tape, w);
    Saved s = tape.push(Saved.class, Saved::new);
    s.qkv = qkv;
    s.o = o;
    s.lse = lse;
    s.seqs = seqs;
    return y;
  }

  @Override
  public float[] backward(float[] dy, Tape tape, Arena w) {
    Saved s = tape.pop(Saved.class);
    float[] dO = outProj.backward(dy, tape, w);
    int T = s.seqs.total();
    float[] dqkv = w.floats(T * 3 * d);
    Rows[] v = w.views(4);
    AttentionBackward.backward(
        v[0].set(dqkv, 0, T, 3 * d, 3 * d),
        v[1].set(dO, 0, T, d, d),
        v[2].set(s.qkv, 0, T, 3 * d, 3 * d),
        v[3].set(s.o, 0, T, d, d),
        s.lse,
        s.seqs.cu(),
        s.seqs.count(),
        dims);
    return wqkv.backward(dqkv, tape, w);
  }
}
