package org.hnet.cli;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import me.tongfei.progressbar.ProgressState;

/**
 * A progress bar on stderr for long work (training, scoring, chunking, loading), or nothing when
 * stderr is not a terminal or the user asked for none. Its line fits the terminal: the bar keeps at
 * least {@value #MIN_BAR} columns, and the message fields that do not fit are left out, the last
 * first. Rate and time left count only the work done since this bar started, so that they are right
 * after a resume.
 */
final class Progress implements AutoCloseable {
  static final int MIN_BAR = 10;

  private final ProgressBar bar; // null: no bar
  private final String unit;
  private volatile List<String> fields = List.of();

  private Progress(String task, long total, long from, String unit, boolean show) {
    this.unit = unit;
    if (!show) {
      this.bar = null;
      return;
    }
    ProgressBarBuilder b =
        new ProgressBarBuilder()
            .setTaskName(task)
            .setInitialMax(total)
            .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
            .setUpdateIntervalMillis(250)
            .startsFrom(from, Duration.ZERO)
            .setRenderer(this::render);
    if (total < 0) b.clearDisplayOnFinish(); // a spinner goes away when its work is done
    this.bar = b.build();
  }

  /**
   * A line that shows {@code task} is under way and for how long (work whose size is not known:
   * loading a model, indexing a corpus), gone when closed.
   */
  static Progress spinner(String task, boolean show) {
    return new Progress(task, -1, 0, "", show && System.console() != null);
  }

  /**
   * A bar for {@code total} units of {@code unit} ("" for steps, "B"), starting at {@code from};
   * shown when {@code show} and stderr is a terminal.
   */
  static Progress start(String task, long total, long from, String unit, boolean show) {
    return new Progress(task, total, from, unit, show && System.console() != null);
  }

  /** Whether a bar is on the screen (else the caller may print log lines). */
  boolean shown() {
    return bar != null;
  }

  void stepTo(long n) {
    if (bar != null) bar.stepTo(n);
  }

  void stepBy(long n) {
    if (bar != null) bar.stepBy(n);
  }

  /** The message fields after the bar, most important first. */
  void fields(String... f) {
    fields = List.of(f);
  }

  @Override
  public void close() {
    if (bar != null) bar.close();
  }

  /** "train 45% │██████▌ │ 180/400 steps 1:02<1:14 · loss 2.392 · held-out 3.381 bpb". */
  private String render(ProgressState p, int width) {
    return line(
        p.getTaskName(),
        p.getCurrent(),
        p.getMax(),
        p.getStart(),
        p.getElapsedAfterStart().toMillis() / 1000.0,
        p.getTotalElapsed().toMillis() / 1000.0,
        unit,
        fields,
        width);
  }

  /**
   * The bar's line: {@code cur} of {@code max} (max &lt; 0: unknown, a spinner), the rate and time
   * left from the work done since {@code start} in {@code secs}; fields after the bar as long as it
   * keeps {@value #MIN_BAR} columns in {@code width}.
   */
  static String line(
      String task,
      long cur,
      long max,
      long start,
      double secs,
      double totalSecs,
      String unit,
      List<String> fields,
      int width) {
    if (max < 0) {
      String head = task + " \u2502";
      String tail = "\u2502 " + time(totalSecs);
      int len = Math.max(1, Math.min(30, width - 1 - head.length() - tail.length()));
      int pos = (int) ((totalSecs * 4) % len);
      return head + " ".repeat(pos) + "\u2588" + " ".repeat(len - pos - 1) + tail;
    }
    double frac = max <= 0 ? 0 : Math.min(1.0, (double) cur / max);
    String head = String.format(Locale.ROOT, "%s %3d%% %s", task, (int) (100 * frac), "\u2502");
    long done = cur - start;
    String eta = done > 0 && secs > 0 ? time((max - cur) * secs / done) : "?";
    String tail =
        String.format(
            Locale.ROOT,
            "\u2502 %s/%s%s %s<%s",
            count(cur),
            count(max),
            unit.isEmpty() ? "" : " " + unit,
            time(totalSecs),
            eta);
    StringBuilder msg = new StringBuilder();
    int room = width - 1 - head.length() - tail.length() - MIN_BAR;
    for (String f : fields) {
      if (msg.length() + 3 + f.length() > room) break;
      msg.append(" \u00b7 ").append(f);
    }
    int barLen = Math.max(1, width - 1 - head.length() - tail.length() - msg.length());
    double filled = frac * barLen;
    int full = (int) filled;
    StringBuilder sb = new StringBuilder(width);
    sb.append(head).append("\u2588".repeat(full));
    if (full < barLen) {
      String eighths = " \u258f\u258e\u258d\u258c\u258b\u258a\u2589";
      sb.append(eighths.charAt((int) ((filled - full) * 8))).append(" ".repeat(barLen - full - 1));
    }
    return sb.append(tail).append(msg).toString();
  }

  private static String count(long n) {
    return n >= 10_000_000
        ? String.format(Locale.ROOT, "%.0fM", n / 1e6)
        : n >= 100_000 ? String.format(Locale.ROOT, "%.0fk", n / 1e3) : Long.toString(n);
  }

  /** "1:02", "1:02:03". */
  static String time(double seconds) {
    if (!Double.isFinite(seconds) || seconds < 0) return "?";
    long s = Math.round(seconds);
    return s >= 3600
        ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
