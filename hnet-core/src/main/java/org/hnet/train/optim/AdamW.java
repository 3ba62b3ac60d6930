package org.hnet.train.optim;

import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hnet.HNetException;
import org.hnet.kernels.Parallel;
import org.hnet.nn.Param;

/**
 * AdamW (Loshchilov &amp; Hutter) with PyTorch's {@code torch.optim.AdamW} semantics, float32
 * state, and the reference H-Net's per-stage learning-rate multipliers (hnet/models/hnet.py {@code
 * _apply_lr_multiplier}; hnet/utils/train.py {@code group_params} puts each stage's parameters in a
 * group with lr × multiplier, and biases/norms in groups without weight decay).
 *
 * <p>One {@link #step} at base rate {@code lr}, for a parameter with effective rate {@code a = lr ×
 * multiplier(stage)} and step number {@code t} (1 on the first step), does per element, in float32
 * unless noted, in the order of torch's {@code _single_tensor_adamw} (its foreach path has the same
 * order):
 *
 * <ol>
 *   <li>{@code p = p * (float)(1 - a*wd)} — only if {@code param.weightDecay} (torch skips the
 *       multiply for a group with weight_decay 0);
 *   <li>{@code m = m.lerp(g, (float)(1-β1))}, computed as torch's vectorised CPU and CUDA lerp do,
 *       with one fused multiply-add: {@code fma(w, g-m, m)} for {@code w < 0.5}, else {@code
 *       fma(w-1, g-m, g)};
 *   <li>{@code v = v * (float)β2}, then {@code v = v + ((float)(1-β2) * g) * g} (mul_ then
 *       addcmul_);
 *   <li>{@code denom = sqrt(v) / (float)sqrt(1-β2^t) + (float)eps} (bias corrections in double);
 *   <li>{@code p = p + ((float)(-a/(1-β1^t)) * m) / denom} (addcdiv_).
 * </ol>
 *
 * <p>Each float op rounds once, as torch's CPU kernels do; CUDA's compiler may contract step 3's
 * addcmul into an fma, so a CUDA run can differ by an ulp. Powers use {@link StrictMath#pow} so
 * results do not depend on the JVM's intrinsics.
 *
 * <p>A parameter whose {@code grad} is null is skipped entirely for that step (no decay, no state
 * update), as torch skips a parameter whose grad is None; its bias correction still uses the global
 * step count, unlike torch's per-parameter count, which matters only if a grad appears late.
 *
 * <p>The update is element-wise, so its result is the same for any thread count; the step loop
 * allocates nothing (the chunk plan, the work body and the per-parameter scalars are built once).
 */
public final class AdamW {
  private final Param[] params;
  private final ChunkPlan plan;
  private final float[][] expAvg;
  private final float[][] expAvgSq;
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private final double[] lrMultiplier; // per parameter, resolved from its stage
  private long stepCount;

  // Per-step scalars, written by step() before the work is handed out (Executor submission is a
  // happens-before edge, so the workers see them).
  private final float[] decayFactor; // per parameter; 1 when not decayed
  private final boolean[] decays;
  private final float[] negStepSize; // per parameter
  private float bc2Sqrt;
  private final Parallel.RangeBody body = this::updateChunks;

  /**
   * @param stageLrMultipliers outer stage first; stage -1 (embeddings, lm_head) uses entry 0, as
   *     the reference's mixer_seq does; a stage beyond the array uses the last entry
   */
  public AdamW(
      List<Param> params,
      double beta1,
      double beta2,
      double eps,
      double weightDecay,
      double[] stageLrMultipliers) {
    if (!(beta1 >= 0 && beta1 < 1))
      throw new IllegalArgumentException("beta1 must be in [0, 1): " + beta1);
    if (!(beta2 >= 0 && beta2 < 1))
      throw new IllegalArgumentException("beta2 must be in [0, 1): " + beta2);
    if (!(eps >= 0)) throw new IllegalArgumentException("eps must be >= 0: " + eps);
    if (!(weightDecay >= 0))
      throw new IllegalArgumentException("weightDecay must be >= 0: " + weightDecay);
    if (stageLrMultipliers == null || stageLrMultipliers.length == 0) {
      throw new IllegalArgumentException("stageLrMultipliers must have at least one entry");
    }
    this.plan = ChunkPlan.of(params);
    this.params = plan.params;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    int n = this.params.length;
    expAvg = new float[n][];
    expAvgSq = new float[n][];
    lrMultiplier = new double[n];
    decayFactor = new float[n];
    decays = new boolean[n];
    negStepSize = new float[n];
    Set<String> names = new HashSet<>();
    for (int i = 0; i < n; i++) {
      Param p = this.params[i];
      if (!names.add(p.name)) throw new IllegalArgumentException("duplicate parameter " + p.name);
      if (p.stage < -1) throw new IllegalArgumentException(p.name + ": stage " + p.stage + " < -1");
      int s = Math.min(Math.max(p.stage, 0), stageLrMultipliers.length - 1);
      lrMultiplier[i] = stageLrMultipliers[s];
      expAvg[i] = new float[p.size()];
      expAvgSq[i] = new float[p.size()];
    }
  }

  /**
   * One update at base learning rate {@code lr} (each parameter uses lr × its stage multiplier).
   */
  public void step(double lr) {
    if (!(lr >= 0) || Double.isInfinite(lr))
      throw new IllegalArgumentException("lr must be finite and >= 0: " + lr);
    // Check every grad before touching anything, so a bad one cannot leave a half-applied step.
    for (Param p : params) {
      if (p.grad != null && p.grad.length != p.size()) {
        throw new IllegalStateException(
            p.name + ": grad has " + p.grad.length + " values, data " + p.size());
      }
    }
    long t = ++stepCount;
    double bc1 = 1 - StrictMath.pow(beta1, t);
    bc2Sqrt = (float) Math.sqrt(1 - StrictMath.pow(beta2, t));
    for (int i = 0; i < params.length; i++) {
      double a = lr * lrMultiplier[i];
      decays[i] = params[i].weightDecay && weightDecay != 0;
      decayFactor[i] = decays[i] ? (float) (1 - a * weightDecay) : 1f;
      negStepSize[i] = (float) (-(a / bc1));
    }
    Parallel.forRange(plan.chunks(), plan.grain(), body);
  }

  private void updateChunks(int from, int to) {
    final float w1 = (float) (1 - beta1);
    final boolean small = Math.abs(w1) < 0.5f; // torch's is_lerp_weight_small
    final float w1m1 = w1 - 1f;
    final float b2 = (float) beta2;
    final float c2 = (float) (1 - beta2);
    final float epsF = (float) eps;
    final float bc2 = bc2Sqrt;
    for (int c = from; c < to; c++) {
      int pi = plan.param[c];
      Param p = params[pi];
      float[] g = p.grad;
      if (g == null) continue;
      float[] w = p.data;
      float[] m = expAvg[pi];
      float[] v = expAvgSq[pi];
      boolean decay = decays[pi];
      float df = decayFactor[pi];
      float stepSize = negStepSize[pi];
      for (int i = plan.start[c], end = plan.end[c]; i < end; i++) {
        float wi = w[i];
        if (decay) wi = wi * df;
        float gi = g[i];
        float mi = m[i];
        mi = small ? Math.fma(w1, gi - mi, mi) : Math.fma(w1m1, gi - mi, gi);
        float vi = v[i] * b2;
        vi = vi + c2 * gi * gi;
        float denom = (float) Math.sqrt(vi) / bc2 + epsF;
        w[i] = wi + stepSize * mi / denom;
        m[i] = mi;
        v[i] = vi;
      }
    }
  }

  /** Steps taken so far (torch's {@code state['step']}); the next step uses stepCount() + 1. */
  public long stepCount() {
    return stepCount;
  }

  /**
   * The optimizer state under {@code "exp_avg.<name>"} and {@code "exp_avg_sq.<name>"} (torch's
   * state keys), in parameter order. The arrays are the live state, not copies, so a big model's
   * state is not duplicated while a checkpoint is written: write them out before the next step and
   * do not modify them.
   */
  public Map<String, float[]> stateTensors() {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (int i = 0; i < params.length; i++) {
      out.put("exp_avg." + params[i].name, expAvg[i]);
      out.put("exp_avg_sq." + params[i].name, expAvgSq[i]);
    }
    return Collections.unmodifiableMap(out);
  }

  /**
   * Restores state saved by {@link #stateTensors()} (values are copied in). Strict: every expected
   * tensor must be present with the parameter's size, and no other may be; on any error nothing is
   * changed.
   *
   * @throws HNetException naming the missing, mis-sized or unexpected tensor
   */
  public void loadState(Map<String, float[]> tensors, long stepCount) {
    if (stepCount < 0) throw new HNetException("optimizer state: step count " + stepCount + " < 0");
    Set<String> expected = new HashSet<>();
    for (Param p : params) {
      for (String key : new String[] {"exp_avg." + p.name, "exp_avg_sq." + p.name}) {
        expected.add(key);
        float[] t = tensors.get(key);
        if (t == null) throw new HNetException("optimizer state: missing tensor " + key);
        if (t.length != p.size()) {
          throw new HNetException(
              "optimizer state: tensor "
                  + key
                  + " has "
                  + t.length
                  + " values, expected "
                  + p.size());
        }
      }
    }
    for (String key : tensors.keySet()) {
      if (!expected.contains(key))
        throw new HNetException("optimizer state: unexpected tensor " + key);
    }
    for (int i = 0; i < params.length; i++) {
      System.arraycopy(tensors.get("exp_avg." + params[i].name), 0, expAvg[i], 0, expAvg[i].length);
      System.arraycopy(
          tensors.get("exp_avg_sq." + params[i].name), 0, expAvgSq[i], 0, expAvgSq[i].length);
    }
    this.stepCount = stepCount;
  }
}
