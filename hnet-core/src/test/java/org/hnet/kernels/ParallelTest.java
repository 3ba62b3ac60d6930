package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ParallelTest {
  @Test
  void everyItemIsVisitedOnceForEverySizeAndThreadCount() {
    int saved = Parallel.threads();
    try {
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
    } finally {
      Parallel.setThreads(saved);
    }
  }

  @Test
  void aFailureInAWorkerReachesTheCaller() {
    int saved = Parallel.threads();
    try {
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
    } finally {
      Parallel.setThreads(saved);
    }
  }

  @Test
  void nestedCallsCompleteWhenEverySpinnerIsBusy() {
    int saved = Parallel.threads();
    try {
      Parallel.setThreads(3);
      int[][] seen = new int[7][11];
      for (int rep = 0; rep < 200; rep++) {
        Parallel.forRange(
            7,
            1,
            (s, e) -> {
              for (int i = s; i < e; i++) {
                int row = i;
                Parallel.forRange(
                    11,
                    1,
                    (a, b) -> {
                      for (int j = a; j < b; j++) seen[row][j]++;
                    });
              }
            });
      }
      for (int[] row : seen)
        for (int v : row) org.junit.jupiter.api.Assertions.assertEquals(200, v);
    } finally {
      Parallel.setThreads(saved);
    }
  }

  /**
   * A call whose parts the caller ran alone (the spinner was parked: it parks after 200 µs idle,
   * and waking it takes tens of µs) leaves no offer behind. Before offers were revoked, the parked
   * spinner stayed busy with the stale offer until it woke, so the caller's next calls found no
   * idle spinner and ran alone too; this test failed on every round then.
   */
  @Test
  void aCallTheCallerRanAloneLeavesNoOfferBehind() throws InterruptedException {
    int saved = Parallel.threads();
    try {
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
    } finally {
      Parallel.setThreads(saved);
    }
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
    int saved = Parallel.threads();
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
      Parallel.setThreads(saved);
    }
  }
}
