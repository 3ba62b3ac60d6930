package org.hnet.train.optim;

import java.util.Locale;
import org.hnet.HNetException;

/** The implementations behind {@link LrSchedule}'s factories. */
final class Schedules {
  static final double DEFAULT_MIN_RATIO = 0.1;
  static final double DEFAULT_DECAY_FRACTION = 0.2;

  private Schedules() {}

  static LrSchedule parse(String spec, double peak, long warmup, long total) {
    if (spec == null)
      throw new HNetException(
          "lr schedule: none given (constant, cosine[:minRatio], wsd[:decayFraction])");
    String s = spec.trim().toLowerCase(Locale.ROOT);
    int colon = s.indexOf(':');
    String kind = colon < 0 ? s : s.substring(0, colon);
    String arg = colon < 0 ? null : s.substring(colon + 1).trim();
    try {
      switch (kind) {
        case "constant":
          if (arg != null) throw new IllegalArgumentException("constant takes no argument");
          return new Constant(peak, warmup);
        case "cosine":
          return new Cosine(peak, warmup, total, arg == null ? DEFAULT_MIN_RATIO : number(arg));
        case "wsd":
          return new Wsd(peak, warmup, total, arg == null ? DEFAULT_DECAY_FRACTION : number(arg));
        default:
          throw new IllegalArgumentException(
              "unknown kind (constant, cosine[:minRatio], wsd[:decayFraction])");
      }
    } catch (IllegalArgumentException e) {
      throw new HNetException("lr schedule '" + spec + "': " + e.getMessage(), e);
    }
  }

  private static double number(String arg) {
    try {
      return Double.parseDouble(arg);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("argument '" + arg + "' is not a number");
    }
  }

  private static void checkPeak(double peak) {
    if (!(peak >= 0) || Double.isInfinite(peak))
      throw new IllegalArgumentException("peak lr must be finite and >= 0, got " + peak);
  }

  private static void checkSteps(long warmup, long total) {
    if (warmup < 0) throw new IllegalArgumentException("warmup must be >= 0, got " + warmup);
    if (total < 1) throw new IllegalArgumentException("total steps must be >= 1, got " + total);
    if (warmup > total)
      throw new IllegalArgumentException("warmup " + warmup + " exceeds total steps " + total);
  }

  /** peak × (s + 1) / warmup during warmup, else 1 × peak; shared by all three schedules. */
  private static double warmup(double peak, long warmup, long step) {
    return peak * (double) (step + 1) / warmup;
  }

  record Constant(double peak, long warmupSteps) implements LrSchedule {
    Constant {
      checkPeak(peak);
      if (warmupSteps < 0)
        throw new IllegalArgumentException("warmup must be >= 0, got " + warmupSteps);
    }

    @Override
    public double lr(long step) {
      return step < warmupSteps ? warmup(peak, warmupSteps, step) : peak;
    }

    @Override
    public String describe() {
      return String.format(Locale.ROOT, "constant(peak=%.3e, warmup=%d)", peak, warmupSteps);
    }
  }

  record Cosine(double peak, long warmupSteps, long total, double minRatio) implements LrSchedule {
    Cosine {
      checkPeak(peak);
      checkSteps(warmupSteps, total);
      if (!(minRatio >= 0 && minRatio <= 1))
        throw new IllegalArgumentException("minRatio must be in [0, 1], got " + minRatio);
    }

    @Override
    public double lr(long step) {
      if (step < warmupSteps) return warmup(peak, warmupSteps, step);
      long span = total - warmupSteps;
      double progress = span == 0 ? 1 : Math.min(1.0, (double) (step - warmupSteps) / span);
      double min = peak * minRatio;
      return min + (peak - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }

    @Override
    public String describe() {
      return String.format(
          Locale.ROOT,
          "cosine(peak=%.3e, warmup=%d, total=%d, minRatio=%s)",
          peak,
          warmupSteps,
          total,
          minRatio);
    }
  }

  record Wsd(double peak, long warmupSteps, long total, double decayFraction)
      implements LrSchedule {
    Wsd {
      checkPeak(peak);
      checkSteps(warmupSteps, total);
      if (!(decayFraction >= 0 && decayFraction <= 1)) {
        throw new IllegalArgumentException("decayFraction must be in [0, 1], got " + decayFraction);
      }
      long decay = Math.round(decayFraction * total);
      if (warmupSteps > total - decay) {
        throw new IllegalArgumentException(
            "warmup "
                + warmupSteps
                + " overlaps the last "
                + decay
                + " (decay) of "
                + total
                + " steps");
      }
    }

    long decaySteps() {
      return Math.round(decayFraction * total);
    }

    @Override
    public double lr(long step) {
      if (step < warmupSteps) return warmup(peak, warmupSteps, step);
      long decay = decaySteps();
      long decayStart = total - decay;
      if (step < decayStart) return peak;
      if (step >= total) return 0;
      return peak * (double) (total - step) / decay;
    }

    @Override
    public String describe() {
      return String.format(
          Locale.ROOT,
          "wsd(peak=%.3e, warmup=%d, total=%d, decay=last %d steps)",
          peak,
          warmupSteps,
          total,
          decaySteps());
    }
  }
}
