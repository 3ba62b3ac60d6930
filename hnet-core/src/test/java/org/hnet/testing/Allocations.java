package org.hnet.testing;

import java.lang.management.ManagementFactory;

/** What the tests measure allocation with. */
public final class Allocations {
  private Allocations() {}

  /**
   * Bytes the calling thread has allocated so far (HotSpot's per-thread counter): the difference
   * around a call is what that call allocated on this thread, whatever the collector did.
   */
  public static long ofThisThread() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getCurrentThreadAllocatedBytes();
  }
}
