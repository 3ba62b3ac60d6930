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
          Parallel.forRange(n, 1, (s, e) -> {
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
      assertThrows(IllegalStateException.class, () -> Parallel.forRange(10, 1, (s, e) -> {
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
        Parallel.forRange(7, 1, (s, e) -> {
          for (int i = s; i < e; i++) {
            int row = i;
            Parallel.forRange(11, 1, (a, b) -> {
              for (int j = a; j < b; j++) seen[row][j]++;
            });
          }
        });
      }
      for (int[] row : seen) for (int v : row) org.junit.jupiter.api.Assertions.assertEquals(200, v);
    } finally {
      Parallel.setThreads(saved);
    }
  }
}
