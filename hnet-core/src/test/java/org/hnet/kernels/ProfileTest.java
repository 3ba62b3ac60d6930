package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.hnet.kernels.Profile.Entry;
import org.hnet.kernels.Profile.Kind;
import org.hnet.tensor.Rows;
import org.hnet.testing.RestoreThreads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Profile: what it records, for whom, and that a kernel calling another is counted once. */
@ExtendWith(RestoreThreads.class)
class ProfileTest {
  @AfterEach
  void off() {
    Profile.stop();
    Profile.reset();
  }

  static Map<Kind, Entry> byKind() {
    return Profile.entries().stream().collect(Collectors.toMap(Entry::kind, e -> e));
  }

  @Test
  void recordsCallsTimeAndFlopsOfTheOwnersKernelsOnlyWhileOn() throws Exception {
    int M = 24, N = 40, K = 16;
    float[] x = new float[M * K], w = new float[N * K], y = new float[M * N], dy = new float[M * N];
    float[] dx = new float[M * K], dw = new float[N * K];
    Matmul.linear(y, 0, x, 0, w, 0, null, 0, M, N, K); // off: not recorded
    Profile.reset();
    Profile.start();
    Matmul.linear(y, 0, x, 0, w, 0, null, 0, M, N, K);
    Matmul.linear(y, 0, x, 0, w, 0, null, 0, M, N, K);
    Matmul.linearBackwardInput(dx, 0, dy, 0, w, 0, M, N, K, false);
    Matmul.linearBackwardWeight(dw, 0, null, 0, dy, 0, x, 0, M, N, K);
    Matmul.linearDecode(y, 0, x, 0, w, 0, null, 0, 1, N, K);
    Thread other = new Thread(() -> Matmul.linearBackwardInput(dx, 0, dy, 0, w, 0, M, N, K, false));
    other.start();
    other.join(); // another thread's kernels are not the profiled computation's
    Profile.stop();
    Matmul.linear(y, 0, x, 0, w, 0, null, 0, M, N, K); // off again

    Map<Kind, Entry> e = byKind();
    assertEquals(
        List.of(Kind.MATMUL, Kind.MATMUL_DX, Kind.MATMUL_DW, Kind.MATVEC),
        Profile.entries().stream().map(Entry::kind).toList(),
        "only the kinds called, in Kind order");
    assertEquals(2, e.get(Kind.MATMUL).calls());
    assertEquals(2L * 2 * M * N * K, e.get(Kind.MATMUL).flops());
    assertEquals(1, e.get(Kind.MATMUL_DX).calls(), "the other thread's call is not counted");
    assertEquals(2L * M * N * K, e.get(Kind.MATMUL_DW).flops());
    assertEquals(2L * N * K, e.get(Kind.MATVEC).flops());
    for (Entry k : e.values())
      assertTrue(k.nanos() > 0 && k.waitNanos() <= k.nanos(), k.toString());
  }

  @Test
  void aKernelCallingAnotherIsOneCallOfItsOwnKind() {
    int H = 2, P = 8, T = 12;
    int[] cu = {0, 5, T};
    float[] qkv = new float[T * 3 * H * P], out = new float[T * H * P], lse = new float[T * H];
    java.util.Random r = new java.util.Random(1);
    for (int i = 0; i < qkv.length; i++) qkv[i] = r.nextFloat();
    Profile.reset();
    Profile.start();
    Rows ov = Rows.of(out, T, H * P), qv = Rows.of(qkv, T, 3 * H * P);
    AttnHeads heads = new AttnHeads(H, P, 4, -1);
    AttentionBackward.forwardTrain(ov, lse, qv, cu, 2, heads); // calls Attention.forward
    Attention.forward(ov, qv, cu, 2, heads);
    Profile.stop();
    Entry a = byKind().get(Kind.ATTENTION);
    assertEquals(2, a.calls(), "forwardTrain and forward, the inner forward not counted again");
    assertEquals(
        2 * Attention.causalPairs(cu, 2, -1) * 4L * H * P,
        a.flops(),
        "the flops of each call once");
    assertEquals(1, Profile.entries().size());
  }

  @Test
  void workersTimeIsAttributedToTheKernelTheyHelp() {
    long serial = MatmulGemm.serialFlops;
    try {
      Parallel.setThreads(2);
      MatmulGemm.serialFlops = 0; // every product splits
      int M = 256, N = 256, K = 256;
      float[] x = new float[M * K], w = new float[N * K], y = new float[M * N];
      Profile.reset();
      Profile.start();
      for (int i = 0; i < 50; i++) Matmul.linear(y, 0, x, 0, w, 0, null, 0, M, N, K);
      Profile.stop();
      Entry m = byKind().get(Kind.MATMUL);
      assertEquals(50, m.calls());
      // a worker that helped ran parts while the owner was inside the product, so never longer than
      // it
      assertTrue(m.workerNanos() >= 0 && m.workerNanos() <= m.nanos(), m.toString());
      assertTrue(m.threadsBusy() > 0 && m.threadsBusy() <= 2.0 + 1e-9, m.toString());
    } finally {
      MatmulGemm.serialFlops = serial;
    }
  }
}
