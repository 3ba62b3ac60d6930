package org.hnet.train.optim;

import java.util.Arrays;
import java.util.List;
import org.hnet.kernels.Parallel;
import org.hnet.nn.Param;

/**
 * Whole-model gradient operations: zeroing, scaling for accumulation, global L2 norm and clipping.
 * Parameters whose {@code grad} is still null (never allocated) are skipped, as PyTorch skips
 * parameters whose {@code .grad} is None.
 */
public final class Gradients {
  /** torch.nn.utils.clip_grad_norm_ adds this to the norm before dividing (avoids 0/0). */
  static final double CLIP_EPS = 1e-6;

  private Gradients() {}

  public static void zero(List<Param> params) {
    ChunkPlan plan = ChunkPlan.of(params);
    Parallel.forRange(
        plan.chunks(),
        plan.grain(),
        (s, e) -> {
          for (int c = s; c < e; c++) {
            float[] g = plan.params[plan.param[c]].grad;
            if (g != null) Arrays.fill(g, plan.start[c], plan.end[c], 0f);
          }
        });
  }

  /**
   * Multiplies every gradient by {@code factor} in float32, e.g. 1/k after accumulating k
   * micro-batches so that the update sees their mean.
   */
  public static void scale(List<Param> params, float factor) {
    ChunkPlan plan = ChunkPlan.of(params);
    scale(plan, factor);
  }

  private static void scale(ChunkPlan plan, float factor) {
    Parallel.forRange(
        plan.chunks(),
        plan.grain(),
        (s, e) -> {
          for (int c = s; c < e; c++) {
            float[] g = plan.params[plan.param[c]].grad;
            if (g == null) continue;
            for (int i = plan.start[c], end = plan.end[c]; i < end; i++) g[i] *= factor;
          }
        });
  }

  /**
   * The L2 norm over every gradient element, as if all were one vector. Squares are accumulated in
   * double, per fixed chunk (see {@link ChunkPlan}), and the chunk partials summed in list order,
   * so the result is bit-identical for any thread count. (PyTorch reduces in float32; double is
   * more accurate and the difference is far below anything clipping is sensitive to.)
   */
  public static double globalNorm(List<Param> params) {
    return globalNorm(ChunkPlan.of(params));
  }

  private static double globalNorm(ChunkPlan plan) {
    double[] partial = new double[plan.chunks()];
    Parallel.forRange(
        plan.chunks(),
        plan.grain(),
        (s, e) -> {
          for (int c = s; c < e; c++) {
            float[] g = plan.params[plan.param[c]].grad;
            if (g == null) continue;
            double sum = 0;
            for (int i = plan.start[c], end = plan.end[c]; i < end; i++) {
              double x = g[i];
              sum += x * x;
            }
            partial[c] = sum;
          }
        });
    double total = 0;
    for (double p : partial) total += p;
    return Math.sqrt(total);
  }

  /**
   * torch.nn.utils.clip_grad_norm_: with {@code coef = maxNorm / (norm + 1e-6)}, every gradient is
   * multiplied by {@code coef} when {@code coef < 1} (torch multiplies by {@code min(coef, 1)}, and
   * a multiply by 1 is a no-op). So gradients are scaled exactly when {@code norm + 1e-6 >
   * maxNorm}.
   *
   * <p>Differs from torch only for a non-finite norm: torch would scale by NaN or 0; here the
   * gradients are left alone so the caller, seeing the returned norm, can skip the step.
   *
   * @return the norm before clipping
   */
  public static double clipGlobalNorm(List<Param> params, double maxNorm) {
    if (!(maxNorm >= 0)) throw new IllegalArgumentException("maxNorm must be >= 0, got " + maxNorm);
    ChunkPlan plan = ChunkPlan.of(params);
    double norm = globalNorm(plan);
    if (!Double.isFinite(norm)) return norm;
    double coef = maxNorm / (norm + CLIP_EPS);
    if (coef < 1.0) scale(plan, (float) coef);
    return norm;
  }
}
