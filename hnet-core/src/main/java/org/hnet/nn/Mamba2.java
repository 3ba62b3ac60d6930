package org.hnet.nn;

import org.hnet.config.SsmConfig;
import org.hnet.kernels.Conv1d;
import org.hnet.kernels.Conv1dBackward;
import org.hnet.kernels.Ops;
import org.hnet.kernels.OpsBackward;
import org.hnet.kernels.Ssd;
import org.hnet.kernels.SsdBackward;
import org.hnet.kernels.SsdHeads;
import org.hnet.kernels.SsdRows;
import org.hnet.kernels.SsdStep;
import org.hnet.tensor.Arena;
import org.hnet.tensor.Rows;

/**
 * The Mamba-2 mixer exactly as mamba_ssm's Mamba2 with ngroups = 1, head dim 64, no in/out biases,
 * a conv bias, the D skip without head dim, and the gated RMSNorm (norm_before_gate = False).
 *
 * <p>Widths: d model, dInner = expand·d, H = dInner/P heads of P = 64, N = d_state, convDim =
 * dInner + 2N over [x | B | C], in_proj output [z | xBC | dt] of 2·dInner + 2N + H.
 */
public final class Mamba2 implements Mixer {
  public final Linear inProj;
  public final Param convWeight; // (convDim, 1, W)
  public final Param convBias; // (convDim,)
  public final Param dtBias; // (H,)
  public final Param aLog; // (H,)
  public final Param dSkip; // (H,)
  public final Param normWeight; // (dInner,)
  public final Linear outProj;
  public final int d, dInner, nHeads, headDim, dState, dConv, convDim, dInProj, chunkSize;

  // kept for the backward: in_proj output [T × dInProj], conv output [T × convDim], scan output [T
  // × dInner]

  /** What the backward needs: in_proj's output, the conv output and the scan output. */
  static final class Saved {
    float[] zxbcdt, xbc, y;
    SeqLens seqs;
  }

  /** dt_bias, A_log and D with the scan's dimensions (the arrays are the parameters'). */
  private final SsdHeads heads;

  /** The scan's views of this layer's forward buffers, re-pointed per call. */
  private static final class Views {
    final SsdRows in = new SsdRows();
    final Rows y = new Rows();
  }

  Mamba2(Params ps, String prefix, int stage, int d, SsmConfig cfg) {
    this.d = d;
    this.dInner = cfg.expand() * d;
    this.headDim = cfg.headDim();
    this.nHeads = dInner / headDim;
    this.dState = cfg.dState();
    this.dConv = cfg.dConv();
    this.chunkSize = cfg.chunkSize();
    this.convDim = dInner + 2 * dState;
    this.dInProj = 2 * dInner + 2 * dState + nHeads;
    // named_parameters() order of Mamba2: dt_bias, A_log, D, in_proj, conv1d, norm, out_proj
    this.dtBias = ps.take(prefix + ".dt_bias", stage, false, nHeads);
    this.aLog = ps.take(prefix + ".A_log", stage, false, nHeads);
    this.dSkip = ps.take(prefix + ".D", stage, false, nHeads);
    this.inProj = new Linear(ps, prefix + ".in_proj", stage, d, dInProj, false, true);
    this.convWeight = ps.take(prefix + ".conv1d.weight", stage, true, convDim, 1, dConv);
    this.convBias = ps.take(prefix + ".conv1d.bias", stage, false, convDim);
    this.normWeight = ps.take(prefix + ".norm.weight", stage, false, dInner);
    this.outProj = new Linear(ps, prefix + ".out_proj", stage, dInner, d, false, true);
    this.heads = new SsdHeads(dtBias.data, aLog.data, dSkip.data, nHeads, headDim, dState);
  }

  /**
   * Decode state: conv [R × convDim × W] (last W inputs of the conv, oldest first), ssm [R × H × P
   * × N]; taps [W × convDim], the conv weight tap-major as the step reads it ({@link
   * Conv1d#tapMajor}), taken when the cache is made and again at each prefill, so that the steps
   * that follow use the weights of their prefill.
   */
  public record Cache(float[] conv, float[] ssm, float[] taps) {}

  @Override
  public Object allocate(int rows, int maxLen) {
    return new Cache(
        new float[rows * convDim * dConv],
        new float[rows * nHeads * headDim * dState],
        Conv1d.tapMajor(new float[dConv * convDim], convWeight.data, convDim, dConv));
  }

  @Override
  public float[] prefill(float[] x, SeqLens seqs, Object cache, Arena w) {
    Cache c = (Cache) cache;
    Conv1d.tapMajor(c.taps(), convWeight.data, convDim, dConv);
    return forward(x, seqs, c, null, w);
  }

  @Override
  public float[] step(float[] x, Object cache, boolean[] active, Arena w) {
    Cache c = (Cache) cache;
    int R = active.length;
    float[] zxbcdt = inProj.step(x, R, active, w); // [R × dInProj]
    float[] in = w.floats(R * convDim), xbc = w.floats(R * convDim);
    for (int r = 0; r < R; r++)
      System.arraycopy(zxbcdt, r * dInProj + dInner, in, r * convDim, convDim);
    Conv1d.step(c.conv(), xbc, in, c.taps(), convBias.data, R, convDim, dConv, active);
    // the scan step takes x [R × dInner], dt [R × H], B and C [R × N] as separate arrays
    float[] xs = w.floats(R * dInner), dt = w.floats(R * nHeads);
    float[] b = w.floats(R * dState), cc = w.floats(R * dState);
    for (int r = 0; r < R; r++) {
      System.arraycopy(xbc, r * convDim, xs, r * dInner, dInner);
      System.arraycopy(xbc, r * convDim + dInner, b, r * dState, dState);
      System.arraycopy(xbc, r * convDim + dInner + dState, cc, r * dState, dState);
      System.arraycopy(zxbcdt, r * dInProj + 2 * dInner + 2 * dState, dt, r * nHeads, nHeads);
    }
    // inactive rows are skipped by the kernels: zero them so no stale value reaches the output
    float[] y = w.zeros(R * dInner);
    SsdStep.step(c.ssm(), y, xs, dt, b, cc, heads, R, active);
    float[] g = w.floats(R * dInner);
    Ops.gatedRmsnorm(
        g, 0, y, 0, dInner, zxbcdt, 0, dInProj, normWeight.data, R, dInner, RMSNorm.EPS);
    return outProj.step(g, R, active, w);
  }

  @Override
  public float[] forward(float[] x, SeqLens seqs, Tape tape, Arena w) {
    return forward(x, seqs, null, tape, w);
  }

  private float[] forward(float[] x, SeqLens seqs, Cache cache, Tape tape, Arena w) {
    int T = seqs.total();
    float[] zxbcdt = inProj.forward(x, T, tape, w); // [T × dInProj] = [z | xBC | dt]
    float[] xbc = w.floats(T * convDim); // [T × convDim] = [x | B | C] after conv + SiLU
    Rows[] cv = w.views(2);
    Conv1d.causalSilu(
        cv[0].set(xbc, 0, T, convDim, convDim),
        cache == null ? null : cache.conv(),
        cv[1].set(zxbcdt, dInner, T, convDim, dInProj), // xBC, in in_proj's output rows
        convWeight.data,
        convBias.data,
        seqs.cu(),
        seqs.count(),
        dConv);
    float[] y = w.floats(T * dInner); // [T × H × P]
    Views v = w.object(Views.class, Views::new);
    v.in.x.set(xbc, 0, T, dInner, convDim);
    v.in.b.set(xbc, dInner, T, dState, convDim);
    v.in.c.set(xbc, dInner + dState, T, dState, convDim);
    v.in.dt.set(zxbcdt, 2 * dInner + 2 * dState, T, nHeads, dInProj);
    Ssd.scan(
        v.y.set(y, 0, T, dInner, dInner),
        cache == null ? null : cache.ssm(),
        v.in,
        heads,
        seqs.cu(),
        seqs.count(),
        chunkSize);
    float[] g = w.floats(T * dInner);
    Ops.gatedRmsnorm(
        g, 0, y, 0, dInner, zxbcdt, 0, dInProj, normWeight.data, T, dInner, RMSNorm.EPS);
    float[] out = outProj.forward(g, T, tape, w);
    if (tape != null) {
      Saved s = tape.push(Saved.class, Saved::new);
      s.zxbcdt = zxbcdt;
      s.xbc = xbc;
      s.y = y;
      s.seqs = seqs;
    }
    return out;
  }

  /**
   * The scan backward's operands as views (SsdBackward.scanBackward), re-pointed every backward.
   */
  private static final class ScanViews {
    final SsdRows dIn = new SsdRows(), in = new SsdRows();
    final Rows dy = new Rows();

    /**
     * The gradient buffers of dtBias, A_log and D as the scan backward's record: made on first use
     * and again only if a buffer or the layer changes (a cache of array identities).
     */
    SsdHeads grads;
  }

  @Override
  public float[] backward(float[] dout, Tape tape, Arena w) {
    Saved s = tape.pop(Saved.class);
    SeqLens seqs = s.seqs;
    float[] savedZxbcdt = s.zxbcdt, savedXbc = s.xbc, savedY = s.y;
    int T = seqs.total();
    float[] dg = outProj.backward(dout, tape, w); // [T × dInner]
    // ∂L/∂(in_proj output), filled column range by column range: z, then xBC (via the conv), then
    // dt
    float[] dZxbcdt = w.floats(T * dInProj);
    float[] dy = w.floats(T * dInner);
    Rows[] nv = w.views(4);
    OpsBackward.gatedRmsnormBackward(
        nv[0].set(dy, 0, T, dInner, dInner),
        nv[1].set(dZxbcdt, 0, T, dInner, dInProj),
        normWeight.gradBuffer(),
        dg,
        nv[2].set(savedY, 0, T, dInner, dInner),
        nv[3].set(savedZxbcdt, 0, T, dInner, dInProj),
        normWeight.data,
        RMSNorm.EPS,
        w.floats(T * dInner),
        w.floats(T));
    float[] dXbc = w.floats(T * convDim); // ∂L/∂[x | B | C] after the conv
    ScanViews v = w.object(ScanViews.class, ScanViews::new);
    int dtCol = 2 * dInner + 2 * dState; // dt's columns in in_proj's output
    v.dIn.x.set(dXbc, 0, T, dInner, convDim);
    v.dIn.dt.set(dZxbcdt, dtCol, T, nHeads, dInProj);
    v.dIn.b.set(dXbc, dInner, T, dState, convDim);
    v.dIn.c.set(dXbc, dInner + dState, T, dState, convDim);
    v.dy.set(dy, 0, T, dInner, dInner);
    v.in.x.set(savedXbc, 0, T, dInner, convDim);
    v.in.dt.set(savedZxbcdt, dtCol, T, nHeads, dInProj);
    v.in.b.set(savedXbc, dInner, T, dState, convDim);
    v.in.c.set(savedXbc, dInner + dState, T, dState, convDim);
    float[] gDtBias = dtBias.gradBuffer(), gALog = aLog.gradBuffer(), gD = dSkip.gradBuffer();
    if (v.grads == null
        || v.grads.dtBias() != gDtBias
        || v.grads.aLog() != gALog
        || v.grads.d() != gD) {
      v.grads = new SsdHeads(gDtBias, gALog, gD, nHeads, headDim, dState);
    }
    SsdBackward.scanBackward(v.dIn, v.grads, v.dy, v.in, heads, seqs.cu(), seqs.count(), chunkSize);
    Rows[] cv = w.views(3);
    Conv1dBackward.causalSiluBackward(
        cv[0].set(dZxbcdt, dInner, T, convDim, dInProj), // xBC's part of in_proj's gradient
        convWeight.gradBuffer(),
        convBias.gradBuffer(),
        cv[1].set(dXbc, 0, T, convDim, convDim),
        cv[2].set(savedZxbcdt, dInner, T, convDim, dInProj),
        convWeight.data,
        convBias.data,
        seqs.cu(),
        seqs.count(),
        dConv);
    return inProj.backward(dZxbcdt, tape, w);
  }
}
