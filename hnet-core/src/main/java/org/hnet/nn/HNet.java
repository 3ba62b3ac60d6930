package org.hnet.nn;

import java.util.List;
import org.hnet.config.HNetConfig;
import org.hnet.config.StageConfig;
import org.hnet.kernels.Ops;
import org.hnet.kernels.StageOps;
import org.hnet.tensor.Arena;

/**
 * One H-Net stage (the reference's HNet module), recursive: encoder → routing → chunk → main
 * network (the next stage, or an isotropic stack at the innermost stage) → dechunk → + residual →
 * decoder. Inputs narrower than this stage's width are padded with the learned pad_dimension, and
 * the output is cut back to the input width.
 */
public final class HNet {
  public final int stage;
  public final int d;
  public final boolean innermost;
  public final Param padDimension; // (d − d_{s−1},) or null
  public final Isotropic encoder; // null at the innermost stage
  public final HNet mainNetwork; // the next stage; null at the innermost stage
  public final Isotropic innermostNetwork; // only at the innermost stage
  public final Isotropic decoder;
  public final RoutingModule routingModule;
  public final Linear residualProj;

  /**
   * What the backward needs: the routing decisions, the inner stage's output z [Tc × d] and
   * sequences, the dechunk output y [T × d], the input width.
   */
  static final class Saved {
    RoutingModule.Output routing;
    float[] z, y;
    SeqLens seqs, inner;
    int dIn;
  }

  /** Where the arena keeps the inner stage's SeqLens, refilled in place call after call. */
  private static final class InnerSeqs {
    SeqLens last;
  }

  HNet(Params ps, String prefix, HNetConfig cfg, int stage) {
    StageConfig sc = cfg.stage(stage);
    this.stage = stage;
    this.d = sc.dModel();
    this.innermost = sc.innermost();
    int dPrev = stage == 0 ? d : cfg.stage(stage - 1).dModel();
    // named_parameters() order of HNet: its own pad_dimension first, then the submodules in
    // registration order: encoder, main_network, decoder, routing_module, residual_proj
    this.padDimension =
        d > dPrev ? ps.take(prefix + ".pad_dimension", stage, false, d - dPrev) : null;
    if (innermost) {
      this.innermostNetwork = new Isotropic(ps, prefix + ".main_network", stage, sc, sc.main());
      this.encoder = null;
      this.mainNetwork = null;
      this.decoder = null;
      this.routingModule = null;
      this.residualProj = null;
    } else {
      this.innermostNetwork = null;
      this.encoder = new Isotropic(ps, prefix + ".encoder", stage, sc, sc.encoder());
      this.mainNetwork = new HNet(ps, prefix + ".main_network", cfg, stage + 1);
      this.decoder = new Isotropic(ps, prefix + ".decoder", stage, sc, sc.decoder());
      this.routingModule = new RoutingModule(ps, prefix + ".routing_module", stage, d, sc.router());
      this.residualProj = new Linear(ps, prefix + ".residual_proj", stage, d, d, true, false);
    }
  }

  /**
   * The stage's forward; the result is a buffer of w. With a tape, records what {@link #backward}
   * needs (this stage's record last, above its modules').
   *
   * @param x [T × dIn], dIn ≤ d
   * @param bytes the stage-0 bytes (for a rule-based router), or null
   * @param routing receives this stage's routing output and those of the stages inside, outermost
   *     first
   * @return [T × dIn]
   */
  float[] forward(
      float[] x,
      int[] bytes,
      int dIn,
      SeqLens seqs,
      List<RoutingModule.Output> routing,
      Tape tape,
      Arena w) {
    int T = seqs.total();
    float[] h = pad(x, dIn, T, w);
    if (innermost) {
      float[] out = cut(innermostNetwork.forward(h, seqs, tape, w), dIn, T, w);
      record(tape, null, null, null, seqs, null, dIn, w);
      return out;
    }

    h = encoder.forward(h, seqs, tape, w); // [T × d]
    RoutingModule.Output r = routingModule.forward(h, bytes, seqs, tape, w);
    routing.add(r);
    SeqLens inner = innerSeqs(r.boundaryMask(), seqs, w);
    int Tc = inner.total();
    float[] chunks = ChunkLayer.forward(w.floats(Tc * d), h, r.boundaryMask(), T, d); // [Tc × d]
    float[] z = mainNetwork.forward(chunks, null, d, inner, routing, tape, w); // [Tc × d]
    float[] y =
        DeChunkLayer.forward(
            w.floats(T * d),
            w.floats(d),
            z,
            r.boundaryProb(),
            r.boundaryMask(),
            seqs,
            d); // [T × d]
    // the residual projection is float32 in the reference too ("do the residual in fp32"); it is
    // computed after the inner stage (it depends only on h), so that the tape pops it in order
    float[] residual = residualProj.forward(h, T, tape, w);
    // out · STE(selected_probs) + residual: the STE's forward value is exactly 1
    float[] decoderIn = w.floats(T * d);
    StageOps.add(decoderIn, y, residual, T * d);
    float[] out = cut(decoder.forward(decoderIn, seqs, tape, w), dIn, T, w);
    record(tape, r, z, y, seqs, inner, dIn, w);
    return out;
  }

  private static void record(
      Tape tape,
      RoutingModule.Output r,
      float[] z,
      float[] y,
      SeqLens seqs,
      SeqLens inner,
      int dIn,
      Arena w) {
    if (tape == null) return;
    Saved s = tape.push(Saved.class, Saved::new);
    s.routing = r;
    s.z = z;
    s.y = y;
    s.seqs = seqs;
    s.inner = inner;
    s.dIn = dIn;
  }

  /**
   * The inner stage's sequences; on an arena that keeps objects the SeqLens of the last call,
   * refilled in place.
   */
  private static SeqLens innerSeqs(boolean[] mask, SeqLens seqs, Arena w) {
    InnerSeqs box = w.object(InnerSeqs.class, InnerSeqs::new);
    return box.last = ChunkLayer.nextSeqLens(mask, seqs, box.last);
  }

  /**
   * Backward of the forward recorded last on the tape.
   *
   * @param dOut ∂L/∂out [T × dIn]
   * @param dProbExtra per stage (indexed by stage number), ∂L/∂p that comes from outside the
   *     network (the ratio loss), or null
   * @return ∂L/∂x [T × dIn], a buffer of w
   */
  float[] backward(float[] dOut, float[][] dProbExtra, Tape tape, Arena w) {
    Saved s = tape.pop(Saved.class);
    SeqLens seqs = s.seqs;
    int T = seqs.total(), dIn = s.dIn;
    float[] dOutFull = uncut(dOut, dIn, T, w);
    if (innermost) return unpad(innermostNetwork.backward(dOutFull, T, tape, w), dIn, T, w);

    RoutingModule.Output r = s.routing;
    float[] dDecIn = decoder.backward(dOutFull, T, tape, w); // [T × d]
    float[] dh = residualProj.backward(dDecIn, tape, w); // residual branch
    float[] dProb = w.zeros(T);
    StageOps.steBackward(dProb, dDecIn, s.y, r.boundaryMask(), T, d);
    if (dProbExtra != null && dProbExtra[stage] != null) {
      Ops.addInPlace(dProb, 0, dProbExtra[stage], 0, T);
    }
    // the inner stage's backward: its buffers are returned once its gradient is in dh
    int mark = w.mark();
    int Tc = s.inner.total();
    float[] dz = w.floats(Tc * d);
    DeChunkLayer.backward(dDecIn, s.z, r.boundaryProb(), r.boundaryMask(), seqs, d, dz, dProb, w);
    float[] dChunks = mainNetwork.backward(dz, dProbExtra, tape, w); // [Tc × d]
    StageOps.scatterAddRows(dh, dChunks, r.boundaryMask(), T, d); // the chunk gather's backward
    w.release(mark);
    float[] dhRouting = routingModule.backward(dProb, tape, w); // null: a rule-based stage
    if (dhRouting != null) Ops.addInPlace(dh, 0, dhRouting, 0, T * d);
    return unpad(encoder.backward(dh, T, tape, w), dIn, T, w);
  }

  /** The decode state of a stage and of the stages inside it. */
  public static final class Cache {
    final Object[] encoder, decoder, innermost;
    final RoutingModule.Cache routing;
    final float[] dechunkLast; // [R × d]: the last EMA value of every row
    final Cache inner;

    Cache(
        Object[] encoder,
        Object[] decoder,
        Object[] innermost,
        RoutingModule.Cache routing,
        float[] dechunkLast,
        Cache inner) {
      this.encoder = encoder;
      this.decoder = decoder;
      this.innermost = innermost;
      this.routing = routing;
      this.dechunkLast = dechunkLast;
      this.inner = inner;
    }
  }

  /** Caches for R rows of at most maxLen positions at this stage. */
  public Cache allocate(int rows, int maxLen) {
    if (innermost)
      return new Cache(null, null, innermostNetwork.allocate(rows, maxLen), null, null, null);
    return new Cache(
        encoder.allocate(rows, maxLen),
        decoder.allocate(rows, maxLen),
        null,
        routingModule.allocate(rows),
        new float[rows * d],
        mainNetwork.allocate(rows, maxLen));
  }

  /**
   * Prefill: the parallel forward over the packed prompts (sequence i = cache row i), filling every
   * cache of this stage and the stages inside; returns what {@link #forward} returns.
   */
  float[] prefill(
      float[] x,
      int[] bytes,
      int dIn,
      SeqLens seqs,
      Cache cache,
      List<RoutingModule.Output> routing,
      Arena w) {
    int T = seqs.total();
    float[] h = pad(x, dIn, T, w);
    if (innermost) return cut(innermostNetwork.prefill(h, seqs, cache.innermost, w), dIn, T, w);
    h = encoder.prefill(h, seqs, cache.encoder, w);
    float[] residual = residualProj.forward(h, T, null, w);
    RoutingModule.Output r = routingModule.forward(h, bytes, seqs, null, w);
    routingModule.fill(cache.routing, h, seqs);
    routing.add(r);
    SeqLens inner = innerSeqs(r.boundaryMask(), seqs, w);
    float[] chunks = ChunkLayer.forward(w.floats(inner.total() * d), h, r.boundaryMask(), T, d);
    float[] z = mainNetwork.prefill(chunks, null, d, inner, cache.inner, routing, w);
    float[] y =
        DeChunkLayer.forward(
            w.floats(T * d), w.floats(d), z, r.boundaryProb(), r.boundaryMask(), seqs, d);
    for (int i = 0; i < seqs.count(); i++) {
      if (seqs.length(i) > 0)
        System.arraycopy(y, (seqs.start(i) + seqs.length(i) - 1) * d, cache.dechunkLast, i * d, d);
    }
    float[] decoderIn = w.floats(T * d);
    StageOps.add(decoderIn, y, residual, T * d);
    return cut(decoder.prefill(decoderIn, seqs, cache.decoder, w), dIn, T, w);
  }

  /**
   * One position of R rows (the reference's HNet.step): the encoder steps; the router decides; only
   * the rows at a boundary step the main network; the dechunk EMA and the residual give the
   * decoder's input; the decoder steps.
   *
   * @param x [R × dIn]
   * @param routing receives this stage's decisions (over the R rows) and those inside
   * @return [R × dIn], a buffer of w
   */
  float[] step(
      float[] x,
      int[] bytes,
      int dIn,
      Cache cache,
      boolean[] active,
      List<RoutingModule.Output> routing,
      Arena w) {
    int R = active.length;
    float[] h = pad(x, dIn, R, w);
    if (innermost) return cut(innermostNetwork.step(h, cache.innermost, active, w), dIn, R, w);
    h = encoder.step(h, cache.encoder, active, w);
    float[] residual = residualProj.step(h, R, active, w);
    RoutingModule.Output r = routingModule.step(h, bytes, cache.routing, active, w);
    routing.add(r);
    boolean[] boundary = r.boundaryMask(); // false for inactive rows
    // With no row at a boundary (half the steps of a batch-1 decode), the main network computes
    // nothing: its caches do not move, and the dechunk reads z only at boundary rows.
    float[] z =
        any(boundary)
            ? mainNetwork.step(h, null, d, cache.inner, boundary, routing, w)
            : mainNetwork.idle(cache.inner, boundary, routing, w);
    float[] y =
        DeChunkLayer.step(
            w.floats(R * d), z, r.boundaryProb(), boundary, active, cache.dechunkLast, d);
    StageOps.add(y, y, residual, R * d);
    return cut(decoder.step(y, cache.decoder, active, w), dIn, R, w);
  }

  /**
   * A step in which no row reaches this stage: every inner stage records a decision without
   * boundaries (so the step's routing still has one entry per stage) and nothing is computed.
   * Returns null: the caller's dechunk reads no row of it.
   */
  private float[] idle(Cache cache, boolean[] none, List<RoutingModule.Output> routing, Arena w) {
    if (innermost) return null;
    routing.add(routingModule.step(null, null, cache.routing, none, w));
    return mainNetwork.idle(cache.inner, none, routing, w);
  }

  static boolean any(boolean[] flags) {
    for (boolean f : flags) if (f) return true;
    return false;
  }

  /** [T × dIn] → [T × d] with zeros in the channels that the output cut away. */
  private float[] uncut(float[] g, int dIn, int T, Arena w) {
    if (dIn == d) return g;
    float[] out = w.floats(T * d);
    StageOps.cutRowsBackward(out, g, T, dIn, d);
    return out;
  }

  /**
   * [T × d] → [T × dIn]; the padded channels' gradient goes to pad_dimension (summed in double).
   */
  private float[] unpad(float[] g, int dIn, int T, Arena w) {
    if (dIn == d) return g;
    float[] out = w.floats(T * dIn);
    StageOps.padRowsBackward(out, padDimension.gradBuffer(), g, T, dIn, d);
    return out;
  }

  /** Appends pad_dimension to every row: [T × dIn] → [T × d]. */
  private float[] pad(float[] x, int dIn, int T, Arena w) {
    if (dIn == d) return x;
    float[] out = w.floats(T * d);
    StageOps.padRows(out, x, padDimension.data, T, dIn, d);
    return out;
  }

  /** Keeps the first dIn channels of every row: [T × d] → [T × dIn]. */
  private float[] cut(float[] x, int dIn, int T, Arena w) {
    if (dIn == d) return x;
    float[] out = w.floats(T * dIn);
    StageOps.cutRows(out, x, T, d, dIn);
    return out;
  }
}
