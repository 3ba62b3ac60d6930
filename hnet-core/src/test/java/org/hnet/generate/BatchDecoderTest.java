package org.hnet.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.hnet.HNetException;
import org.hnet.nn.HNetForCausalLM;
import org.junit.jupiter.api.Test;

/** Continuous batching: rows join and leave a running batch, each as if decoded alone. */
class BatchDecoderTest {
  /** Collects one request's bytes; completes with them when it ends. */
  static class Collect implements BatchDecoder.Sink {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final List<Integer> depth = new ArrayList<>();
    final CompletableFuture<StopCondition.Reason> done = new CompletableFuture<>();

    @Override
    public void onByte(int b, int d) {
      bytes.write(b);
      depth.add(d);
    }

    @Override
    public void onDone(StopCondition.Reason reason) {
      done.complete(reason);
    }

    @Override
    public void onError(RuntimeException e) {
      done.completeExceptionally(e);
    }
  }

  private static GenerateOptions options(int max, long seed, double temperature) {
    return new GenerateOptions(
        max, new SamplingOptions(temperature, 0, 0.95, seed), false, List.of(), true);
  }

  @Test
  void rowsThatJoinARunningBatchDecodeAsIfAlone() throws Exception {
    for (Path model :
        new Path[] {GeneratorTest.TWO_STAGE, Path.of("src/test/resources/golden/isotropic-T")}) {
      HNetForCausalLM lm = HNetForCausalLM.load(model);
      String[] prompts = {"Call me", "Some years ago, never mind", "x", "Ishmael.", "abc", "é漢"};
      int[] max = {40, 25, 60, 10, 33, 20};
      try (BatchDecoder d = new BatchDecoder(lm, 3, 128, 16)) {
        List<Collect> sinks = new ArrayList<>();
        for (int i = 0; i < prompts.length; i++) {
          Collect c = new Collect();
          sinks.add(c);
          GenerateOptions o = options(max[i], 100 + i, i % 2 == 0 ? 1.0 : 0.7);
          assertNotNull(d.submit(prompts[i].getBytes(StandardCharsets.UTF_8), o, c));
          if (i == 2) Thread.sleep(20); // later ones join a batch already decoding
        }
        for (int i = 0; i < prompts.length; i++) {
          assertEquals(StopCondition.Reason.MAX_BYTES, sinks.get(i).done.get(60, TimeUnit.SECONDS));
          GenerateOptions o = options(max[i], 100 + i, i % 2 == 0 ? 1.0 : 0.7);
          Generator.Result alone =
              new Generator(lm)
                  .generate(
                      List.of(prompts[i].getBytes(StandardCharsets.UTF_8)), o, (r, b, x) -> {})
                  .get(0);
          assertArrayEquals(alone.bytes(), sinks.get(i).bytes.toByteArray(), model + " " + i);
          int[] dep = sinks.get(i).depth.stream().mapToInt(Integer::intValue).toArray();
          assertArrayEquals(alone.depth(), dep, model + " " + i + " boundaries");
        }
        assertEquals(0, d.activeRows());
        assertEquals(0, d.queued());
      }
    }
  }

  @Test
  void aCancelledRowLeavesAndAFullQueueRefuses() throws Exception {
    HNetForCausalLM lm = HNetForCausalLM.load(GeneratorTest.TWO_STAGE);
    try (BatchDecoder d = new BatchDecoder(lm, 1, 600, 1)) {
      CountDownLatch started = new CountDownLatch(1);
      Collect first =
          new Collect() {
            @Override
            public void onByte(int b, int x) {
              super.onByte(b, x);
              started.countDown();
            }
          };
      BatchDecoder.Request r = d.submit(new byte[] {'a'}, options(500, 1, 1.0), first);
      assertTrue(started.await(30, TimeUnit.SECONDS));
      Collect second = new Collect();
      assertNotNull(d.submit(new byte[] {'b'}, options(5, 2, 1.0), second)); // waits: 1 row
      assertNull(d.submit(new byte[] {'c'}, options(5, 3, 1.0), new Collect()), "queue full");
      r.cancel();
      assertEquals(StopCondition.Reason.NONE, first.done.get(30, TimeUnit.SECONDS));
      assertTrue(first.bytes.size() < 500);
      assertEquals(StopCondition.Reason.MAX_BYTES, second.done.get(30, TimeUnit.SECONDS));
      assertEquals(5, second.bytes.size());
      // a sink that throws loses only its own request
      Collect failing =
          new Collect() {
            @Override
            public void onByte(int b, int x) {
              throw new IllegalStateException("client went away");
            }
          };
      d.submit(new byte[] {'d'}, options(5, 4, 1.0), failing);
      assertEquals(StopCondition.Reason.NONE, failing.done.get(30, TimeUnit.SECONDS));
      Collect after = new Collect();
      d.submit(new byte[] {'e'}, options(5, 5, 1.0), after);
      assertEquals(StopCondition.Reason.MAX_BYTES, after.done.get(30, TimeUnit.SECONDS));
      HNetException e =
          assertThrows(
              HNetException.class,
              () -> d.submit(new byte[590], options(20, 1, 1.0), new Collect()));
      assertTrue(e.getMessage().contains("exceed a row's 599 positions"), e.getMessage());
    }
  }
}
