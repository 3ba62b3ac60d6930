package org.hnet.train.optim;

/**
 * A learning rate as a function of the optimizer step. {@code step} is the 0-based index of the
 * update about to be taken (the first update is step 0, the last of a {@code total}-step run is
 * {@code total - 1}). Warmup is linear and reaches the peak on its last step: {@code lr(s) = peak ×
 * (s + 1) / warmup} for {@code s < warmup}, so no update is taken at lr 0. Decays are measured so
 * that they reach their end value at {@code s = total}; steps past {@code total} keep that value.
 */
public interface LrSchedule {
  double lr(long step);

  /** One line naming the schedule and its parameters, for logs. */
  String describe();

  /** Linear warmup then the peak forever. */
  static LrSchedule constant(double lr, long warmup) {
    return new Schedules.Constant(lr, warmup);
  }

  /**
   * Linear warmup, then a half cosine from {@code peak} at {@code s = warmup} down to {@code peak ×
   * minRatio} at {@code s = total}.
   */
  static LrSchedule cosine(double peak, long warmup, long total, double minRatio) {
    return new Schedules.Cosine(peak, warmup, total, minRatio);
  }

  /**
   * Warmup-stable-decay, the schedule the H-Net paper trains with: linear warmup, the peak, then a
   * linear decay over the last {@code round(decayFraction × total)} steps that reaches 0 at {@code
   * s = total}.
   */
  static LrSchedule wsd(double peak, long warmup, long total, double decayFraction) {
    return new Schedules.Wsd(peak, warmup, total, decayFraction);
  }

  /**
   * {@code plan} from step {@code at} on, reached linearly over {@code warmup} steps from {@code
   * fromLr}: {@code lr(s) = fromLr + (plan(s) − fromLr) × (s − at + 1) / warmup} for {@code at ≤ s
   * < at + warmup}, {@code plan(s)} after. What a run extended past its first total trains with:
   * the plan is the schedule of the new total, and a run whose learning rate had decayed (WSD,
   * cosine) warms up again instead of jumping to the plan.
   */
  static LrSchedule rewarmed(LrSchedule plan, long at, double fromLr, long warmup) {
    return new LrSchedule() {
      @Override
      public double lr(long step) {
        if (warmup <= 0 || step < at || step >= at + warmup) return plan.lr(step);
        double f = (double) (step - at + 1) / warmup;
        return fromLr + (plan.lr(step) - fromLr) * f;
      }

      @Override
      public String describe() {
        return plan.describe()
            + String.format(
                java.util.Locale.ROOT,
                ", extended at step %d: re-warmed from %.3g over %d steps",
                at,
                fromLr,
                warmup);
      }
    };
  }

  /**
   * {@code "constant"}, {@code "cosine"} or {@code "cosine:<minRatio>"} (default {@value
   * Schedules#DEFAULT_MIN_RATIO}), {@code "wsd"} or {@code "wsd:<decayFraction>"} (default {@value
   * Schedules#DEFAULT_DECAY_FRACTION}).
   *
   * @throws org.hnet.HNetException naming the spec when it is unknown, malformed or out of range
   */
  static LrSchedule parse(String spec, double peak, long warmup, long total) {
    return Schedules.parse(spec, peak, warmup, total);
  }
}
