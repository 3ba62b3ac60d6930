package org.hnet.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.hnet.HNetException;
import org.hnet.generate.BatchDecoder;
import org.hnet.generate.StopCondition;
import org.hnet.generate.Utf8Stream;
import org.hnet.nn.HNetForCausalLM;

/**
 * An OpenAI-compatible HTTP server for one model: {@code POST /v1/completions} and {@code POST
 * /v1/chat/completions} (whole responses or server-sent events), {@code GET /v1/models}, {@code GET
 * /health}, {@code GET /metrics}. Requests share one {@link BatchDecoder}: each is prefilled alone
 * and joins the running batch, and gives exactly the bytes {@code hnet generate} gives with the
 * same options. {@code max_tokens} and every count in {@code usage} are bytes.
 */
public final class Server implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ServeOptions options;
  private final BatchDecoder decoder;
  private final Metrics metrics;
  private final Javalin app;

  private Server(HNetForCausalLM lm, ServeOptions o) {
    this.options = o;
    this.decoder = new BatchDecoder(lm, o.maxBatch(), o.maxLen(), o.maxQueue());
    this.metrics = new Metrics(decoder);
    this.app =
        Javalin.create(
            cfg -> {
              cfg.startup.showJavalinBanner = false;
              cfg.startup.showOldJavalinVersionWarning = false;
              cfg.concurrency.useVirtualThreads = true;
              cfg.http.compressionStrategy = CompressionStrategy.NONE;
              cfg.http.maxRequestSize = (long) o.maxBodyBytes() + 1;
              cfg.routes.get(
                  "/health", ctx -> ctx.json(JSON.createObjectNode().put("status", "ok")));
              cfg.routes.get("/metrics", ctx -> timed(ctx, () -> metricsText(ctx)));
              cfg.routes.get("/v1/models", ctx -> timed(ctx, () -> models(ctx)));
              cfg.routes.post("/v1/completions", ctx -> timed(ctx, () -> complete(ctx, false)));
              cfg.routes.post("/v1/chat/completions", ctx -> timed(ctx, () -> complete(ctx, true)));
              cfg.routes.error(404, "*", ctx -> notFound(ctx));
            });
  }

  /** Loads nothing: serves {@code lm} as {@code options} say; returns once it listens. */
  public static Server start(HNetForCausalLM lm, ServeOptions options) {
    Server s = new Server(lm, options);
    try {
      s.app.start(options.host(), options.port());
    } catch (RuntimeException e) {
      s.decoder.close();
      throw new HNetException(
          "cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage(), e);
    }
    return s;
  }

  /** The port it listens on. */
  public int port() {
    return app.port();
  }

  @Override
  public void close() {
    app.stop();
    decoder.close();
  }

  private interface Body {
    void run() throws Exception;
  }

  /** Runs a handler: authentication first, errors as OpenAI's error objects, then the metrics. */
  private void timed(Context ctx, Body body) {
    long t0 = System.nanoTime();
    try {
      authenticate(ctx);
      body.run();
    } catch (ApiError e) {
      error(ctx, e);
    } catch (HNetException e) {
      error(ctx, ApiError.invalid(null, e.getMessage()));
    } catch (Exception e) {
      error(ctx, new ApiError(500, "server_error", null, "server error: " + e));
    } finally {
      metrics.request(ctx.statusCode(), (System.nanoTime() - t0) / 1e9);
    }
  }

  private void authenticate(Context ctx) {
    if (options.apiKey() == null) return;
    String h = ctx.header("Authorization");
    String want = "Bearer " + options.apiKey();
    if (h == null
        || !java.security.MessageDigest.isEqual(
            h.getBytes(StandardCharsets.UTF_8), want.getBytes(StandardCharsets.UTF_8))) {
      ctx.header("WWW-Authenticate", "Bearer");
      throw new ApiError(
          401, "invalid_request_error", null, "missing or wrong API key (Authorization: Bearer)");
    }
  }

  private static void error(Context ctx, ApiError e) {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode err = root.putObject("error");
    err.put("message", e.getMessage());
    err.put("type", e.type);
    if (e.param == null) err.putNull("param");
    else err.put("param", e.param);
    err.putNull("code");
    ctx.status(e.status).contentType("application/json").result(root.toString());
  }

  private void notFound(Context ctx) {
    if (ctx.result() != null && ctx.result().startsWith("{")) return; // an error object already
    error(ctx, new ApiError(404, "invalid_request_error", null, "no such endpoint: " + ctx.path()));
  }

  private void metricsText(Context ctx) {
    ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.text());
  }

  private void models(Context ctx) {
    ObjectNode root = JSON.createObjectNode().put("object", "list");
    ArrayNode data = root.putArray("data");
    data.addObject()
        .put("id", options.modelId())
        .put("object", "model")
        .put("created", 0)
        .put("owned_by", "hnet-java");
    ctx.contentType("application/json").result(root.toString());
  }

  private byte[] body(Context ctx) throws IOException {
    long declared = ctx.req().getContentLengthLong();
    if (declared > options.maxBodyBytes()) throw tooLarge();
    byte[] b = ctx.req().getInputStream().readNBytes(options.maxBodyBytes() + 1);
    if (b.length > options.maxBodyBytes()) throw tooLarge();
    return b;
  }

  private ApiError tooLarge() {
    return new ApiError(
        413,
        "invalid_request_error",
        null,
        "the request body is larger than " + options.maxBodyBytes() + " bytes");
  }

  /** One request's bytes as the decoder hands them over (on its thread). */
  private final class Collector implements BatchDecoder.Sink {
    final long t0 = System.nanoTime();
    final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    final CompletableFuture<StopCondition.Reason> done = new CompletableFuture<>();
    boolean first = true;

    @Override
    public void onByte(int b, int depth) {
      if (first) {
        first = false;
        metrics.firstByte((System.nanoTime() - t0) / 1e9);
      }
      events.add(b);
    }

    @Override
    public void onDone(StopCondition.Reason reason) {
      events.add(reason);
      done.complete(reason);
    }

    @Override
    public void onError(RuntimeException e) {
      events.add(e);
      done.completeExceptionally(e);
    }
  }

  private void complete(Context ctx, boolean chat) throws Exception {
    JsonNode root = Requests.parse(JSON, body(ctx));
    Requests.Completion c =
        chat
            ? Requests.chat(root, options.modelId(), options.maxLen())
            : Requests.completion(root, options.modelId(), options.maxLen());
    Collector sink = new Collector();
    BatchDecoder.Request r = decoder.submit(c.prompt(), c.options(), sink);
    if (r == null) {
      ctx.header("Retry-After", "1");
      throw new ApiError(
          429,
          "rate_limit_error",
          null,
          "the server is busy: " + options.maxQueue() + " requests are waiting; retry later");
    }
    String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
    long created = System.currentTimeMillis() / 1000;
    if (c.stream()) {
      stream(ctx, c, r, sink, chat, id, created);
      return;
    }
    StopCondition.Reason reason;
    try {
      reason = sink.done.get(options.deadlineSeconds(), TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      r.cancel();
      throw new ApiError(
          504,
          "timeout",
          null,
          "the request ran past the server's deadline of " + options.deadlineSeconds() + " s");
    } catch (ExecutionException e) {
      throw new ApiError(500, "server_error", null, "generation failed: " + e.getCause());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object ev; (ev = sink.events.poll()) != null; ) if (ev instanceof Integer b) out.write(b);
    byte[] bytes = out.toByteArray();
    String text = new String(bytes, StandardCharsets.UTF_8);
    ObjectNode resp = JSON.createObjectNode();
    resp.put("id", id);
    resp.put("object", chat ? "chat.completion" : "text_completion");
    resp.put("created", created);
    resp.put("model", options.modelId());
    ObjectNode choice = resp.putArray("choices").addObject();
    choice.put("index", 0);
    if (chat) {
      choice.putObject("message").put("role", "assistant").put("content", text).putNull("refusal");
      choice.putNull("logprobs");
    } else {
      choice.put("text", text);
      choice.putNull("logprobs");
    }
    choice.put("finish_reason", finish(reason));
    usage(resp, c.prompt().length, bytes.length);
    ctx.contentType("application/json").result(resp.toString());
  }

  private static String finish(StopCondition.Reason reason) {
    return reason == StopCondition.Reason.MAX_BYTES ? "length" : "stop";
  }

  private static void usage(ObjectNode resp, int prompt, int completion) {
    resp.putObject("usage")
        .put("prompt_tokens", prompt)
        .put("completion_tokens", completion)
        .put("total_tokens", prompt + completion)
        .put("unit", "bytes");
  }

  /** Server-sent events: a chunk per run of whole characters, the finish reason, [DONE]. */
  private void stream(
      Context ctx,
      Requests.Completion c,
      BatchDecoder.Request r,
      Collector sink,
      boolean chat,
      String id,
      long created)
      throws IOException {
    ctx.status(200);
    ctx.contentType("text/event-stream");
    ctx.header("Cache-Control", "no-cache");
    OutputStream out = ctx.outputStream();
    Utf8Stream utf8 = new Utf8Stream();
    long deadline = System.nanoTime() + options.deadlineSeconds() * 1_000_000_000L;
    int count = 0;
    StopCondition.Reason reason = StopCondition.Reason.MAX_BYTES;
    try {
      if (chat) send(out, chunk(id, created, true, true, "", null));
      while (true) {
        long left = deadline - System.nanoTime();
        Object ev = left > 0 ? sink.events.poll(left, TimeUnit.NANOSECONDS) : null;
        if (ev == null) { // past the deadline: end the stream as if it reached its length
          r.cancel();
          break;
        }
        if (ev instanceof Integer b) {
          count++;
          StringBuilder piece = new StringBuilder(utf8.push(b));
          for (Object more; (more = sink.events.peek()) instanceof Integer; ) {
            sink.events.poll();
            count++;
            piece.append(utf8.push((Integer) more));
          }
          if (!piece.isEmpty()) send(out, chunk(id, created, chat, false, piece.toString(), null));
        } else if (ev instanceof StopCondition.Reason s) {
          reason = s;
          break;
        } else if (ev instanceof RuntimeException e) {
          // the status line has gone: the failure is an event of the stream, as OpenAI sends it
          ObjectNode err = JSON.createObjectNode();
          err.putObject("error")
              .put("message", "generation failed: " + e.getMessage())
              .put("type", "server_error")
              .putNull("param")
              .putNull("code");
          send(out, err.toString());
          out.write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
          return;
        }
      }
      String rest = utf8.flush();
      if (!rest.isEmpty()) send(out, chunk(id, created, chat, false, rest, null));
      send(out, chunk(id, created, chat, false, null, finish(reason)));
      if (c.usageInStream()) {
        ObjectNode u = chunkBase(id, created, chat);
        u.putArray("choices");
        usage(u, c.prompt().length, count);
        send(out, u.toString());
      }
      out.write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
    } catch (IOException | InterruptedException e) {
      r.cancel(); // the client went away: its row leaves the batch at the next step
      if (e instanceof InterruptedException) Thread.currentThread().interrupt();
    }
  }

  private ObjectNode chunkBase(String id, long created, boolean chat) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", id);
    o.put("object", chat ? "chat.completion.chunk" : "text_completion");
    o.put("created", created);
    o.put("model", options.modelId());
    return o;
  }

  private String chunk(
      String id, long created, boolean chat, boolean role, String text, String finish) {
    ObjectNode o = chunkBase(id, created, chat);
    ObjectNode choice = o.putArray("choices").addObject();
    choice.put("index", 0);
    if (chat) {
      ObjectNode delta = choice.putObject("delta");
      if (role) delta.put("role", "assistant");
      if (text != null) delta.put("content", text);
    } else {
      choice.put("text", text == null ? "" : text);
    }
    choice.putNull("logprobs");
    if (finish == null) choice.putNull("finish_reason");
    else choice.put("finish_reason", finish);
    return o.toString();
  }

  private static void send(OutputStream out, String json) throws IOException {
    out.write(("data: " + json + "\n\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }
}
