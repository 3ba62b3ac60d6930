package org.hnet.nn;

import java.util.ArrayList;
import java.util.List;
import org.hnet.config.BlockSpec;
import org.hnet.config.StageConfig;

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

  /** x [T × d] → rmsnorm(x + Σ block outputs) [T × d]; x is not modified. */
  public float[] forward(float[] x, SeqLens seqs) {
    return forward(x, seqs, null, Workspace.TRANSIENT);
  }

  float[] forward(float[] x, SeqLens seqs, Tape tape, Workspace w) {
    float[] residual = x; // the float32 residual stream; each block writes its own buffer
    for (int i = 0; i < layers.size(); i++)
      residual = layers.get(i).forward(residual, seqs, tape, w); // (no iterator)
    return rmsnorm.forward(residual, seqs.total(), tape, w);
  }

  /** The caches of the blocks' mixers, in layer order. */
  public Object[] allocate(int rows, int maxLen) {
    Object[] caches = new Object[layers.size()];
    for (int i = 0; i < caches.length; i++) caches[i] = layers.get(i).mixer.allocate(rows, maxLen);
    return caches;
  }

  public float[] prefill(float[] x, SeqLens seqs, Object[] caches) {
    return prefill(x, seqs, caches, Workspace.TRANSIENT);
  }

  float[] prefill(float[] x, SeqLens seqs, Object[] caches, Workspace w) {
    float[] residual = x;
    for (int i = 0; i < layers.size(); i++)
      residual = layers.get(i).prefill(residual, seqs, caches[i], w);
    return rmsnorm.forward(residual, seqs.total(), null, w);
  }

  /** One position of R rows: x [R × d] → [R × d]. */
  public float[] step(float[] x, Object[] caches, boolean[] active) {
    return step(x, caches, active, Workspace.TRANSIENT);
  }

  float[] step(float[] x, Object[] caches, boolean[] active, Workspace w) {
    float[] residual = x;
    for (int i = 0; i < layers.size(); i++)
      residual = layers.get(i).step(residual, caches[i], active, w);
    return rmsnorm.forward(residual, active.length, null, w);
  }

  /** dy [T × d] → dx [T × d]. */
  float[] backward(float[] dy, Tape tape) {
    float[] d = rmsnorm.backward(dy, null, tape);
    for (int i = layers.size() - 1; i >= 0; i--) d = layers.get(i).backward(d, tape);
    return d;
  }
}
