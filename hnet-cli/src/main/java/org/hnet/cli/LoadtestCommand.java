package org.hnet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.hnet.generate.GenerateOptions;
import org.hnet.generate.Generator;
import org.hnet.generate.SamplingOptions;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.serve.ServeOptions;
import org.hnet.serve.Server;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code hnet loadtest}: many concurrent streaming clients against {@code hnet serve} on loopback;
 * checks every stream against its request decoded alone and reports latency and throughput.
 */
@Command(
    name = "loadtest",
    header = "Load-tests the server: concurrent streaming clients, each checked against generate.",
    mixinStandardHelpOptions = true,
    description = {
      "Starts the server on a loopback port, runs a warm-up round, then --clients streaming",
      "completions at once (each its own prompt and seed), then decodes every request alone and",
      "compares. Reports failed, lost or mixed-up streams, time to first byte (p50, p99),",
      "aggregate bytes/s, the server's peak heap, and batch decoding without HTTP on the same model",
      "for comparison. Exit 1 if any stream is wrong."
    },
    footer = {
      "",
      "Example:",
      "  ./hnet loadtest --config configs/bench/small-1stage.json --clients 100"
    })
final class LoadtestCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ThreadsOption threads;

  @Mixin WeightsOption weights;

  @ArgGroup(exclusive = true, multiplicity = "1")
  BenchCommand.ModelSource source;

  @Option(
      names = "--clients",
      defaultValue = "100",
      description = "Concurrent clients (default: ${DEFAULT-VALUE}).")
  int clients;

  @Option(
      names = "--max-bytes",
      defaultValue = "128",
      description = "Bytes per request (default: ${DEFAULT-VALUE}).")
  int maxBytes;

  @Option(
      names = "--max-batch",
      defaultValue = "8",
      description = "Server rows (default: ${DEFAULT-VALUE}).")
  int maxBatch;

  @Option(
      names = "--timeout",
      defaultValue = "600",
      paramLabel = "S",
      description = "Give up after this many seconds (default: ${DEFAULT-VALUE}).")
  int timeout;

  private static final ObjectMapper JSON = new ObjectMapper();

  record Outcome(String text, long bytes, double ttfb, boolean ok, String error) {}

  @Override
  public Integer call() throws Exception {
    threads.apply();
    if (clients < 1 || clients > 10_000) throw usage("--clients must be in [1, 10000]");
    if (maxBytes < 1) throw usage("--max-bytes must be at least 1");
    if (maxBatch < 1) throw usage("--max-batch must be at least 1");
    PrintWriter out = spec.commandLine().getOut();
    HNetForCausalLM lm = source.load(weights.format);
    List<String> prompts = new ArrayList<>();
    for (int i = 0; i < clients; i++) prompts.add("Client " + i + ": Call me Ishmael.");

    AtomicLong peakHeap = new AtomicLong();
    AtomicBoolean sampling = new AtomicBoolean(true);
    Thread sampler =
        Thread.ofPlatform()
            .daemon()
            .start(
                () -> {
                  Runtime rt = Runtime.getRuntime();
                  while (sampling.get()) {
                    peakHeap.accumulateAndGet(rt.totalMemory() - rt.freeMemory(), Math::max);
                    try {
                      Thread.sleep(20);
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                });
    List<Outcome> results = new ArrayList<>();
    double wall;
    try (Server server =
            Server.start(
                lm,
                new ServeOptions(
                    "127.0.0.1",
                    0,
                    maxBatch,
                    clients,
                    64 + maxBytes * 2 + 256,
                    1 << 20,
                    timeout,
                    null,
                    "load"));
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      HttpClient http = HttpClient.newBuilder().executor(pool).build();
      URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/completions");
      // a warm-up round through the same server (the JIT compiles the decode path), not counted
      List<Future<Outcome>> warm = new ArrayList<>();
      for (int i = 0; i < Math.min(clients, 2 * maxBatch); i++) {
        int k = i;
        warm.add(pool.submit(() -> one(http, uri, "warm-up " + k, k)));
      }
      for (Future<Outcome> f : warm) f.get(timeout, TimeUnit.SECONDS);
      List<Future<Outcome>> futures = new ArrayList<>();
      long start = System.nanoTime();
      for (int i = 0; i < clients; i++) {
        int k = i;
        futures.add(pool.submit(() -> one(http, uri, prompts.get(k), k)));
      }
      for (Future<Outcome> f : futures) {
        try {
          results.add(f.get(timeout, TimeUnit.SECONDS));
        } catch (Exception e) {
          results.add(new Outcome("", 0, Double.NaN, false, String.valueOf(e)));
        }
      }
      wall = (System.nanoTime() - start) / 1e9;
    } finally {
      sampling.set(false);
      sampler.join();
    }

    // batch decoding without HTTP on the same model, warm (after the server's run), for comparison
    List<byte[]> batch = bytes(prompts.subList(0, Math.min(maxBatch, clients)));
    double direct = 0;
    for (int rep = 0; rep < 2; rep++) {
      long t0 = System.nanoTime();
      new Generator(lm).generate(batch, opts(maxBytes, 0), (r, b, d) -> {});
      direct =
          Math.max(direct, batch.size() * (double) maxBytes / ((System.nanoTime() - t0) / 1e9));
    }

    // every stream against its request decoded alone
    int wrong = 0, failed = 0;
    long total = 0;
    double[] ttfb = new double[clients];
    for (int i = 0; i < clients; i++) {
      Outcome o = results.get(i);
      ttfb[i] = o.ttfb();
      if (!o.ok()) {
        failed++;
        if (failed <= 3)
          spec.commandLine().getErr().println("hnet: client " + i + ": " + o.error());
        continue;
      }
      byte[] alone =
          new Generator(lm)
              .generate(bytes(List.of(prompts.get(i))), opts(maxBytes, i), (r, b, d) -> {})
              .get(0)
              .bytes();
      String expect = new String(alone, StandardCharsets.UTF_8);
      if (!expect.equals(o.text())) wrong++;
      total += o.bytes();
    }
    double[] t = Arrays.stream(ttfb).filter(Double::isFinite).sorted().toArray();
    out.printf(
        Locale.ROOT,
        "%d clients × %d bytes, server batch %d: %d failed, %d differ from generate alone%n",
        clients,
        maxBytes,
        maxBatch,
        failed,
        wrong);
    if (t.length > 0) {
      out.printf(
          Locale.ROOT,
          "time to first byte: p50 %.3f s, p99 %.3f s, max %.3f s%n",
          pct(t, 0.5),
          pct(t, 0.99),
          t[t.length - 1]);
    }
    out.printf(
        Locale.ROOT,
        "aggregate %.0f bytes/s over %.1f s (%d bytes); batch-%d decoding without HTTP: %.0f bytes/s (%.2f×)%n",
        total / wall,
        wall,
        total,
        batch.size(),
        direct,
        total / wall / direct);
    out.printf(
        Locale.ROOT,
        "peak heap in use: %.0f MB (of %.0f MB max)%n",
        peakHeap.get() / 1e6,
        Runtime.getRuntime().maxMemory() / 1e6);
    out.flush();
    return failed == 0 && wrong == 0 ? 0 : 1;
  }

  private Outcome one(HttpClient http, URI uri, String prompt, int seed) {
    try {
      String body =
          JSON.writeValueAsString(
              JSON.createObjectNode()
                  .put("prompt", prompt)
                  .put("max_tokens", maxBytes)
                  .put("temperature", 1.0)
                  .put("seed", seed)
                  .put("stream", true)
                  .put("ignore_eos", true)
                  .set("stream_options", JSON.createObjectNode().put("include_usage", true)));
      long t0 = System.nanoTime();
      HttpResponse<java.io.InputStream> r =
          http.send(
              HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
              HttpResponse.BodyHandlers.ofInputStream());
      if (r.statusCode() != 200)
        return new Outcome("", 0, Double.NaN, false, "HTTP " + r.statusCode());
      StringBuilder text = new StringBuilder();
      double first = Double.NaN;
      boolean done = false;
      long generated = 0;
      try (BufferedReader in =
          new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          if (!line.startsWith("data: ")) continue;
          String data = line.substring(6);
          if (data.equals("[DONE]")) {
            done = true;
            break;
          }
          JsonNode j = JSON.readTree(data);
          if (j.has("usage")) generated = j.get("usage").path("completion_tokens").asLong();
          JsonNode c = j.path("choices").path(0);
          String piece = c.path("text").asText("");
          if (!piece.isEmpty() && Double.isNaN(first)) first = (System.nanoTime() - t0) / 1e9;
          text.append(piece);
        }
      }
      return done
          ? new Outcome(text.toString(), generated, first, true, null)
          : new Outcome(text.toString(), generated, first, false, "stream ended without [DONE]");
    } catch (Exception e) {
      return new Outcome("", 0, Double.NaN, false, String.valueOf(e));
    }
  }

  private static GenerateOptions opts(int max, long seed) {
    return new GenerateOptions(max, new SamplingOptions(1.0, 0, 1.0, seed), false, List.of(), true);
  }

  private static List<byte[]> bytes(List<String> p) {
    return p.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
  }

  private static double pct(double[] sorted, double q) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
  }

  private ParameterException usage(String m) {
    return new ParameterException(spec.commandLine(), m);
  }
}
