package org.hnet.cli;

import java.util.Locale;

/** How numbers read in the commands' text: one wording for each quantity, everywhere. */
final class Numbers {
  private Numbers() {}

  /** "2.235 bits per byte". */
  static String bpb(double bpb) {
    return Double.isFinite(bpb) ? String.format(Locale.ROOT, "%.4f bits per byte", bpb) : "–";
  }

  /**
   * The compression of each chunking stage in bytes per chunk, outer stage first: "5.51
   * bytes/chunk" for a 1-stage model, "3.02 bytes/chunk (stage 1), 6.19 bytes/chunk (stage 2)" for
   * a 2-stage one ({@code perStage[s]} counts stage-s positions per chunk; the bytes per chunk of
   * stage s are their product up to s).
   */
  static String compression(double[] perStage) {
    if (perStage.length == 0) return "no chunking stage";
    StringBuilder sb = new StringBuilder();
    double bytes = 1;
    for (int s = 0; s < perStage.length; s++) {
      bytes *= perStage[s];
      if (s > 0) sb.append(", ");
      sb.append(bytesPerChunk(bytes));
      if (perStage.length > 1) sb.append(" (stage ").append(s + 1).append(')');
    }
    return sb.toString();
  }

  static String bytesPerChunk(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f bytes/chunk", v) : "– bytes/chunk";
  }

  /** "2.8 kB/s", "1.24 MB/s". */
  static String rate(double bytesPerSecond) {
    if (!Double.isFinite(bytesPerSecond)) return "– B/s";
    return bytesPerSecond >= 1e6
        ? String.format(Locale.ROOT, "%.2f MB/s", bytesPerSecond / 1e6)
        : String.format(Locale.ROOT, "%.1f kB/s", bytesPerSecond / 1e3);
  }
}
