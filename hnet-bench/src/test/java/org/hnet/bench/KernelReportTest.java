package org.hnet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Benchmark;

class KernelReportTest {
  @Test
  void everyKernelBenchmarkHasItsWork() {
    int seen = 0;
    for (Method m : KernelBench.class.getDeclaredMethods()) {
      if (!m.isAnnotationPresent(Benchmark.class)) continue;
      KernelReport.Work w = KernelReport.work("KernelBench." + m.getName());
      assertTrue(w.flops() > 0 || w.bytes() > 0, m.getName() + ": no work counted");
      seen++;
    }
    assertEquals(9, seen, "KernelBench's benchmarks");
  }

  @Test
  void scanAndAttentionAreCountedByTheKernelsThemselves() {
    // Ssd.scan counts 4 flops per (token, head, head dim, state): the recurrence's update and
    // readout
    long t = KernelBench.T, h = KernelBench.H, p = KernelBench.P, n = KernelBench.N;
    assertEquals(4 * t * h * p * n, KernelReport.work("KernelBench.ssdScan").flops());
    // causal attention over 4 sequences of 450: 4·450·451/2 pairs, QKᵀ and PV at 2 flops each per
    // channel
    long pairs = 4L * 450 * 451 / 2;
    assertEquals(
        pairs * 4 * KernelBench.HA * KernelBench.PA,
        KernelReport.work("KernelBench.attention").flops());
    assertTrue(
        KernelReport.work("KernelBench.attentionBackward").flops()
            > KernelReport.work("KernelBench.attention").flops());
  }

  @Test
  void productsCountTwoFlopsPerMultiplyAdd() {
    KernelReport.Work decode = KernelReport.work("MatmulBench.linear 8x384x2048");
    assertEquals(2L * 8 * 384 * 2048, decode.flops());
    assertTrue(decode.label().contains("decode"), decode.label());
    KernelReport.Work dw = KernelReport.work("MatmulBench.backwardWeight 4096x384x2048");
    assertEquals(2L * 4096 * 384 * 2048, dw.flops());
    assertEquals("dW += dyᵀ·x", dw.label());
  }

  @Test
  void elementwiseKernelsCountTheirBytes() {
    KernelReport.Work rms = KernelReport.work("KernelBench.rmsnorm");
    assertEquals(0, rms.flops());
    assertEquals(2L * 4096 * 256 * Float.BYTES, rms.bytes());
  }

  @Test
  void anUnknownBenchmarkIsRefused() {
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> KernelReport.work("KernelBench.nothing"));
    assertTrue(e.getMessage().contains("KernelBench.nothing"), e.getMessage());
  }
}
