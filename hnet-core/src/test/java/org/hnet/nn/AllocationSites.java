package org.hnet.nn;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.hnet.testing.Allocations;

/**
 * Where a failing allocation test allocates: runs the window again under a JFR recording of
 * allocation samples and names the heaviest sites (the first hnet frame and the allocating frame).
 * JFR samples an allocation when a thread takes a new TLAB (megabytes), so one window of a few
 * hundred kilobytes may give no sample, or one that names whatever happened to take the TLAB: the
 * window is repeated until {@link #BYTES} have been allocated (or {@link #RUNS} runs). Started only
 * after a failure, so it cannot change what the test measured; the usual culprits are a vector
 * method still running in C1 (every vector operation allocates there) and a vector handed to a call
 * C2 did not inline (boxed).
 */
final class AllocationSites {
  private AllocationSites() {}

  static final long BYTES = 64 << 20;
  static final int RUNS = 200;

  static String of(Runnable window) {
    return of(window, null);
  }

  /**
   * {@link #of(Runnable)}, leaving out the samples taken inside {@code skip} (a method name, e.g.
   * "prefill": a decode window that must refill its cache before it steps again).
   */
  static String of(Runnable window, String skip) {
    try (Recording r = new Recording()) {
      r.enable("jdk.ObjectAllocationSample").withStackTrace().with("throttle", "off");
      r.start();
      long start = Allocations.ofThisThread();
      int runs = 0;
      while (runs < RUNS && Allocations.ofThisThread() - start < BYTES) {
        window.run();
        runs++;
      }
      r.stop();
      Path f = Files.createTempFile("hnet-alloc", ".jfr");
      try {
        r.dump(f);
        Map<String, Long> bytes = new HashMap<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(f)) {
          if (e.getStackTrace() == null) continue;
          List<RecordedFrame> frames = e.getStackTrace().getFrames();
          if (skip != null && frames.stream().anyMatch(x -> x.getMethod().getName().equals(skip)))
            continue;
          String top = frames.isEmpty() ? "?" : name(frames.get(0));
          String ours =
              frames.stream()
                  .filter(x -> x.getMethod().getType().getName().startsWith("org.hnet."))
                  .findFirst()
                  .map(AllocationSites::name)
                  .orElse("?");
          String site =
              e.getClass("objectClass").getName()
                  + " at "
                  + ours
                  + (ours.equals(top) ? "" : " via " + top);
          bytes.merge(site, e.getLong("weight"), Long::sum);
        }
        if (bytes.isEmpty()) return "no allocation sampled over " + runs + " more windows";
        long total = bytes.values().stream().mapToLong(Long::longValue).sum();
        return bytes.entrySet().stream()
            .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
            .limit(5)
            .map(
                x ->
                    String.format(
                        java.util.Locale.ROOT,
                        "%.0f%% %s",
                        100.0 * x.getValue() / total,
                        x.getKey()))
            .collect(
                Collectors.joining(
                    "; ", "allocation sites (JFR samples over " + runs + " more windows): ", ""));
      } finally {
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String name(RecordedFrame f) {
    String type = f.getMethod().getType().getName();
    return type.substring(type.lastIndexOf('.') + 1)
        + "."
        + f.getMethod().getName()
        + ":"
        + f.getLineNumber();
  }
}
