package org.hnet.nn;

import java.util.ArrayList;
import java.util.List;
import org.hnet.config.BlockSpec;
import org.hnet.config.StageConfig;
import org.hnet.tensor.Arena;

/** A stack of blocks closed by an RMSNorm of the residual stream (the reference's Isotropic). */
public final class Isotropic {
  public final List<Block> layers;
  public final RMSNorm rmsnorm;
  public final int d;

  Isotropic(Params ps, String prefix, int stage, StageConfig sc, List<BlockSpec> layout) {
    this.d = sc.dModel();
    List<Block> blocks = new ArrayList<>(layout.size());
    for (int i = 0; i < layout.size(); i++) {
      blocks.add(new Block(ps, prefix + ".layers." + i, stage, sc, layout.get(i)));
    }
    this.layers = List.copyOf(blocks);
    this.rmsnorm = new RMSNorm(ps, prefix + ".rmsnorm", stage, d);
  }

  /**
   * x [T × d] → rmsnorm(x + Σ block outputs) [T × d], a buffer of w; x is not modified. With a
   * tape, every block's activations stay for the backward; without, each block's are returned to w
   * once the next block has its input.
   */
  float[] forward(float[] x, SeqLens seqs, Tape tape, Arena w) {
    int T = seqs.total();
    if (tape != null) {
      float[] residual = x; // the float32 residual stream; each block writes its own buffer
      for (int i = 0; i < layers.size(); i++)
        residual = layers.get(i).forward(residual, seqs, tape, w); // (no iterator)
      return rmsnorm.forward(residual, T, tape, w);
    }
    Stream s = Stream.start(x, T * d, w);
    for (int i = 0; i < layers.size(); i++) s.next(layers.get(i).forward(s.in(), seqs, null, w));
    return rmsnorm.forward(s.in(), T, null, w);
  }

  /**
   * The residual stream between the blocks of an inference pass: two buffers taken before the first
   * block, which take turns holding a block's output; everything a block takes from the arena after
   * them is returned once its output is copied out. A pass then holds one block's activations at a
   * time, not every block's.
   */
  private static final class Stream {
    private float[] a, b, in;
    private int n, mark;
    private Arena w;

    /** A stream parked in w (no allocation in steady state) over x [n]. */
    static Stream start(float[] x, int n, Arena w) {
      Stream s = w.object(Stream.class, Stream::new);
      s.a = w.floats(n);
      s.b = w.floats(n);
      s.n = n;
      s.w = w;
      s.in = x;
      s.mark = w.mark();
      return s;
    }

    float[] in() {
      return in;
    }

    /** The block's output (a buffer taken after the mark) becomes the next block's input. */
    void next(float[] out) {
      float[] keep = in == a ? b : a;
      System.arraycopy(out, 0, keep, 0, n);
      w.release(mark);
      mark = w.mark();
      in = keep;
    }
  }

  /** The caches of the blocks' mixers, in layer order. */
  public Object[] allocate(int rows, int maxLen) {
    Object[] caches = new Object[layers.size()];
    for (int i = 0; i < caches.length; i++) caches[i] = layers.get(i).mixer.allocate(rows, maxLen);
    return caches;
  }

  /** Prefill: as the forward without a tape, filling the blocks' caches. */
  float[] prefill(float[] x, SeqLens seqs, Object[] caches, Arena w) {
    int T = seqs.total();
    Stream s = Stream.start(x, T * d, w);
    for (int i = 0; i < layers.size(); i++)
      s.next(layers.get(i).prefill(s.in(), seqs, caches[i], w));
    return rmsnorm.forward(s.in(), T, null, w);
  }

  /** One position of R rows: x [R × d] → [R × d]. */
  float[] step(float[] x, Object[] caches, boolean[] active, Arena w) {
    int R = active.length;
    Stream s = Stream.start(x, R * d, w);
    for (int i = 0; i < layers.size(); i++)
      s.next(layers.get(i).step(s.in(), caches[i], active, w));
    return rmsnorm.forward(s.in(), R, null, w);
  }

  /**
   * dy [T × d] → dx [T × d], a buffer of w; each block's backward buffers are returned to w once
   * its input gradient is copied out.
   */
  float[] backward(float[] dy, int T, Tape tape, Arena w) {
    float[] g = rmsnorm.backward(dy, null, tape, w);
    Stream s = Stream.start(g, T * d, w);
    for (int i = layers.size() - 1; i >= 0; i--) s.next(layers.get(i).backward(s.in(), tape, w));
    return s.in();
  }
}
