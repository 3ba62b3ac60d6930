package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.hnet.testing.RestoreThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(RestoreThreads.class)
class ParallelTest {
  @Test
  void everyItemIsVisitedOnceForEverySizeAndThreadCount() {
    for (int t = 1; t <= 4; t++) {
      Parallel.setThreads(t);
      for (int n = 0; n <= 37; n++) {
        int[] seen = new int[n];
        Parallel.forRange(
            n,
            1,
            (s, e) -> {
              for (int i = s; i < e; i++) seen[i]++;
            });
        int[] once = new int[n];
        java.util.Arrays.fill(once, 1);
        assertArrayEquals(once, seen, "n=" + n + " threads=" + t);
      }
    }
  }

  @Test
  void aFailureInAWorkerReachesTheCaller() {
    Parallel.setThreads(2);
    assertThrows(
        IllegalStateException.class,
        () ->
            Parallel.forRange(
                10,
                1,
                (s, e) -> {
                  if (s > 0) throw new IllegalStateException("boom");
                }));
  }

  /** Runs body over [0, n) with forRange, or with forRangeStealing in chunks of 2. */
  private static void range(boolean stealing, int n, Parallel.RangeBody body) {
    if (stealing) Parallel.forRangeStealing(n, 1, 2, body);
    else Parallel.forRange(n, 1, body);
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void nestedCallsCompleteWhenEverySpinnerIsBusy(boolean stealing) {
    Parallel.setThreads(3);
    int[][] seen = new int[7][11];
    for (int rep = 0; rep < 200; rep++) {
      range(
          stealing,
          7,
          (s, e) -> {
            for (int i = s; i < e; i++) {
              int row = i;
              range(
                  stealing,
                  11,
                  (a, b) -> {
                    for (int j = a; j < b; j++) seen[row][j]++;
                  });
            }
          });
    }
    for (int[] row : seen) for (int v : row) org.junit.jupiter.api.Assertions.assertEquals(200, v);
  }

  @Test
  void stealingVisitsEveryItemOnceInChunksForEverySizeAndThreadCount() {
    java.util.Random rnd = new java.util.Random(5);
    for (int t = 1; t <= 4; t++) {
      Parallel.setThreads(t);
      for (int n = 0; n <= 37; n++) {
        for (int chunk = 1; chunk <= 4; chunk++) {
          int grain = 1 + n % 3, c = chunk;
          int[] seen = new int[n];
          int[] wide = new int[1];
          long[] naps = new long[n]; // uneven items, so that threads finish apart and steal
          for (int i = 0; i < n; i++) naps[i] = rnd.nextInt(4) == 0 ? 20_000 : 0;
          Parallel.forRangeStealing(
              n,
              grain,
              chunk,
              (s, e) -> {
                if (e - s > c) wide[0]++;
                for (int i = s; i < e; i++) {
                  seen[i]++;
                  if (naps[i] > 0) java.util.concurrent.locks.LockSupport.parkNanos(naps[i]);
                }
              });
          int[] once = new int[n];
          java.util.Arrays.fill(once, 1);
          String where = "n=" + n + " threads=" + t + " chunk=" + chunk;
          assertArrayEquals(once, seen, where);
          if (t > 1 && n / grain > 1)
            org.junit.jupiter.api.Assertions.assertEquals(
                0, wide[0], "a range wider than a chunk: " + where);
          org.junit.jupiter.api.Assertions.assertFalse(Parallel.offerPending(), where);
        }
      }
    }
  }

  /**
   * When one part is slow, the thread that owns the other part finishes it and then takes items
   * from the end of the slow part: the slow part's last items run on another thread than its first.
   * Scheduling decides who runs what, so a round in which the spinner never ran counts as no
   * evidence; the test fails only if no round in ten shows the steal.
   */
  @Test
  void aThreadThatFinishesEarlyTakesTheEndOfTheSlowPart() throws InterruptedException {
    Parallel.setThreads(2);
    boolean stole = false;
    for (int round = 0; round < 10 && !stole; round++) {
      spinnerIdle();
      String[] ranOn = new String[40];
      Parallel.forRangeStealing(
          40,
          1,
          1,
          (s, e) -> {
            for (int i = s; i < e; i++) {
              ranOn[i] = Thread.currentThread().getName();
              if (i < 20) java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
          });
      boolean both = java.util.Arrays.stream(ranOn).distinct().count() == 2;
      stole = both && !ranOn[19].equals(ranOn[0]);
      org.junit.jupiter.api.Assertions.assertFalse(Parallel.offerPending(), "round " + round);
    }
    org.junit.jupiter.api.Assertions.assertTrue(stole, "no round took items from the slow part");
  }

  @Test
  void aFailureWhileStealingReachesTheCallerAndEveryOtherItemRuns() {
    Parallel.setThreads(2);
    int[] seen = new int[10];
    assertThrows(
        IllegalStateException.class,
        () ->
            Parallel.forRangeStealing(
                10,
                1,
                2,
                (s, e) -> {
                  for (int i = s; i < e; i++) seen[i]++;
                  if (s == 8) throw new IllegalStateException("boom");
                }));
    assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, seen);
  }

  /**
   * A call whose parts the caller ran alone (the spinner was parked: it parks after 200 µs idle,
   * and waking it takes tens of µs) leaves no offer behind. Before offers were revoked, the parked
   * spinner stayed busy with the stale offer until it woke, so the caller's next calls found no
   * idle spinner and ran alone too; this test failed on every round then.
   */
  @Test
  void aCallTheCallerRanAloneLeavesNoOfferBehind() throws InterruptedException {
    Parallel.setThreads(2);
    int[] seen = new int[2];
    for (int round = 0; round < 20; round++) {
      Thread.sleep(5); // the spinner parks
      Parallel.forRange(
          2,
          1,
          (s, e) -> {
            for (int i = s; i < e; i++) seen[i]++;
          });
      org.junit.jupiter.api.Assertions.assertFalse(Parallel.offerPending(), "round " + round);
    }
    assertArrayEquals(new int[] {20, 20}, seen);
  }

  /**
   * Returns once the spinner has run a part of a call and finished it: then it is idle and awake,
   * so the next offer reaches it (it may still be busy from a part of an earlier test's call).
   */
  static void spinnerIdle() throws InterruptedException {
    for (int attempt = 0; attempt < 1000; attempt++) {
      java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(1);
      boolean[] bySpinner = new boolean[1];
      Parallel.forRange(
          2,
          1,
          (s, e) -> {
            if (Thread.currentThread().getName().startsWith("hnet-spinner")) {
              bySpinner[0] = true;
              ran.countDown();
            } else {
              try {
                ran.await(
                    10, java.util.concurrent.TimeUnit.MILLISECONDS); // give the spinner its part
              } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
              }
            }
          });
      if (bySpinner[0]) return;
    }
    throw new AssertionError("the spinner never took a part");
  }

  @Test
  void theCallerRunsEveryPartWhenNoWorkerIsFree() throws Exception {
    java.util.concurrent.CountDownLatch inWorker = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    Thread blocker =
        new Thread(
            () ->
                Parallel.forRange(
                    2,
                    1,
                    (s, e) -> {
                      try {
                        if (Thread.currentThread().getName().startsWith("hnet-spinner")) {
                          inWorker.countDown();
                          release.await();
                        } else {
                          inWorker.await(); // keep the blocker's own thread busy until the spinner
                          // holds the other part
                        }
                      } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                      }
                    }));
    try {
      Parallel.setThreads(2);
      spinnerIdle();
      blocker.start();
      // the spinner holds a part of the blocker's call: it is the one worker there is, and it is
      // stuck
      org.junit.jupiter.api.Assertions.assertTrue(
          inWorker.await(10, java.util.concurrent.TimeUnit.SECONDS));
      java.util.Set<String> ranOn = java.util.concurrent.ConcurrentHashMap.newKeySet();
      int[] seen = new int[8];
      Parallel.forRange(
          8,
          1,
          (s, e) -> {
            ranOn.add(Thread.currentThread().getName());
            for (int i = s; i < e; i++) seen[i]++;
          });
      assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 1, 1}, seen);
      org.junit.jupiter.api.Assertions.assertEquals(
          java.util.Set.of(Thread.currentThread().getName()),
          ranOn,
          "every part ran on the calling thread, none waited for the stuck worker");
    } finally {
      release.countDown();
      blocker.join();
    }
  }
}
