package org.hnet.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.serve.ServeOptions;
import org.hnet.serve.Server;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code hnet serve}: the OpenAI-compatible server with continuous batching. */
@Command(
    name = "serve",
    header = "Serves a model over HTTP with the OpenAI API (completions, chat, streaming).",
    mixinStandardHelpOptions = true,
    description = {
      "Serves POST /v1/completions and /v1/chat/completions (whole or as server-sent events),",
      "GET /v1/models, /health and /metrics (Prometheus). Requests are decoded together: each is",
      "prefilled and joins the running batch, and gives the bytes `hnet generate` gives with the",
      "same options. max_tokens and usage count bytes. Runs until Ctrl-C."
    },
    footer = {
      "",
      "Examples:",
      "  ./hnet serve --model runs/demo",
      "  HNET_KEY=s3cret ./hnet serve --model runs/demo --host 0.0.0.0 --port 8000 --api-key-env HNET_KEY",
      "  curl -s localhost:8080/v1/completions -d '{\"prompt\": \"Call me\", \"max_tokens\": 40}'"
    })
final class ServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ModelOption model;
  @Mixin WeightsOption weights;
  @Mixin ThreadsOption threads;

  @Option(
      names = "--host",
      defaultValue = "127.0.0.1",
      description = "Address to bind (default: ${DEFAULT-VALUE}, this machine only).")
  String host;

  @Option(
      names = "--port",
      defaultValue = "8080",
      description = "Port (default: ${DEFAULT-VALUE}; 0: any free one).")
  int port;

  @Option(
      names = "--max-batch",
      defaultValue = "8",
      paramLabel = "N",
      description = "Rows decoded together (default: ${DEFAULT-VALUE}).")
  int maxBatch;

  @Option(
      names = "--max-queue",
      defaultValue = "64",
      paramLabel = "N",
      description = "Requests that may wait for a row; beyond, 429 (default: ${DEFAULT-VALUE}).")
  int maxQueue;

  @Option(
      names = "--max-len",
      defaultValue = "4096",
      paramLabel = "BYTES",
      description =
          "Positions per row: prompt and max_tokens must fit (default: ${DEFAULT-VALUE}).")
  int maxLen;

  @Option(
      names = "--deadline",
      defaultValue = "600",
      paramLabel = "S",
      description = "Seconds a request may run before it is cancelled (default: ${DEFAULT-VALUE}).")
  int deadline;

  @Option(
      names = "--api-key-env",
      paramLabel = "VAR",
      description =
          "Require 'Authorization: Bearer <the value of VAR>' on every request but /health.")
  String apiKeyEnv;

  @Override
  public Integer call() {
    threads.apply();
    if (port < 0 || port > 65535) throw usage("--port must be in [0, 65535], got " + port);
    if (maxBatch < 1) throw usage("--max-batch must be at least 1, got " + maxBatch);
    if (maxQueue < 1) throw usage("--max-queue must be at least 1, got " + maxQueue);
    if (maxLen < 2) throw usage("--max-len must be at least 2, got " + maxLen);
    if (deadline < 1) throw usage("--deadline must be at least 1, got " + deadline);
    String key = null;
    if (apiKeyEnv != null) {
      key = System.getenv(apiKeyEnv);
      if (key == null || key.isEmpty())
        throw usage("--api-key-env " + apiKeyEnv + ": that environment variable is not set");
    }
    HNetForCausalLM lm = model.load(weights.format);
    lm.requireBytes("serving");
    String id = modelId();
    Server server =
        Server.start(
            lm,
            new ServeOptions(host, port, maxBatch, maxQueue, maxLen, 1 << 20, deadline, key, id));
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        "serving %s as '%s' on http://%s:%d/v1 (batch %d, queue %d, %d positions per row)%s; Ctrl-C"
            + " stops%n",
        model.dir(),
        id,
        host,
        server.port(),
        maxBatch,
        maxQueue,
        maxLen,
        key == null ? "" : ", API key required");
    if (key == null && !isLoopback(host)) {
      spec.commandLine()
          .getErr()
          .println("hnet: warning: listening beyond this machine without --api-key-env");
    }
    out.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  stopped.countDown();
                }));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /** The name clients use: the model directory's, or the run's for a run's checkpoint. */
  private String modelId() {
    java.nio.file.Path d = model.model.toAbsolutePath().normalize();
    return d.getFileName() == null ? "hnet" : d.getFileName().toString();
  }

  private static boolean isLoopback(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
  }

  private ParameterException usage(String m) {
    return new ParameterException(spec.commandLine(), m);
  }
}
