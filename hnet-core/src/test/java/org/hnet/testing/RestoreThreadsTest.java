package org.hnet.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hnet.kernels.Parallel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/** A test's thread count does not outlive it, even when it fails after changing it. */
@ExtendWith(RestoreThreads.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RestoreThreadsTest {
  private static int before;

  @BeforeAll
  static void remember() {
    before = Parallel.threads();
  }

  @Test
  @Order(1)
  void changesTheCount() {
    Parallel.setThreads(before + 3);
    assertEquals(before + 3, Parallel.threads());
  }

  @Test
  @Order(2)
  void findsTheCountItStartedWith() {
    assertEquals(before, Parallel.threads());
  }
}
