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

/**
 * Where a failing allocation test allocates: runs one more window under a JFR recording of
 * allocation samples and names the heaviest sites (the first hnet frame and the allocating
 * frame). Started only after a failure, so it cannot change what the test measured; the usual
 * culprit is a vector method C2 left out of line, which boxes its vectors.
 */
final class AllocationSites {
  private AllocationSites() {}

  static String of(Runnable window) {
    try (Recording r = new Recording()) {
      r.enable("jdk.ObjectAllocationSample").withStackTrace().with("throttle", "off");
      r.start();
      window.run();
      r.stop();
      Path f = Files.createTempFile("hnet-alloc", ".jfr");
      try {
        r.dump(f);
        Map<String, Long> bytes = new HashMap<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(f)) {
          if (e.getStackTrace() == null) continue;
          List<RecordedFrame> frames = e.getStackTrace().getFrames();
          String top = frames.isEmpty() ? "?" : name(frames.get(0));
          String ours = frames.stream().filter(x -> x.getMethod().getType().getName().startsWith("org.hnet."))
              .findFirst().map(AllocationSites::name).orElse("?");
          String site = e.getClass("objectClass").getName() + " at " + ours + (ours.equals(top) ? "" : " via " + top);
          bytes.merge(site, e.getLong("weight"), Long::sum);
        }
        return bytes.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(5)
            .map(x -> x.getValue() + " B " + x.getKey()).collect(Collectors.joining("; ", "allocation sites: ", ""));
      } finally {
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String name(RecordedFrame f) {
    String type = f.getMethod().getType().getName();
    return type.substring(type.lastIndexOf('.') + 1) + "." + f.getMethod().getName() + ":" + f.getLineNumber();
  }
}
