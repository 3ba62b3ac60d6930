package org.hnet.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.hnet.generate.GenerateOptions;
import org.hnet.generate.Generator;
import org.hnet.generate.SamplingOptions;
import org.hnet.nn.HNetForCausalLM;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The server over loopback with the JDK's HTTP client: the wire format, batching, its limits. */
class ServerTest {
  static final Path MODEL = Path.of("../hnet-core/src/test/resources/golden/2stage");
  static final ObjectMapper JSON = new ObjectMapper();
  static HNetForCausalLM lm;
  static Server server;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    lm = HNetForCausalLM.load(MODEL);
    server = Server.start(lm, new ServeOptions("127.0.0.1", 0, 3, 32, 512, 4096, 60, null, "m"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static URI uri(Server s, String path) {
    return URI.create("http://127.0.0.1:" + s.port() + path);
  }

  static HttpResponse<String> post(Server s, String path, String body, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri(s, path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(Server s, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri(s, path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** What `hnet generate` gives for the same request. */
  static String alone(String prompt, int max, double t, double topP, long seed, List<String> stop) {
    List<byte[]> stops = new ArrayList<>();
    for (String s : stop) stops.add(s.getBytes(StandardCharsets.UTF_8));
    GenerateOptions o =
        new GenerateOptions(max, new SamplingOptions(t, 0, topP, seed), true, stops, true);
    byte[] b =
        new Generator(lm)
            .generate(List.of(prompt.getBytes(StandardCharsets.UTF_8)), o, (r, x, d) -> {})
            .get(0)
            .bytes();
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void completionsEqualGenerateUnderConcurrency() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<String>> got = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      int k = i;
      got.add(
          pool.submit(
              () -> {
                String body =
                    "{\"model\": \"m\", \"prompt\": \"Call me "
                        + k
                        + "\", \"max_tokens\": "
                        + (10 + 7 * k)
                        + ", \"temperature\": 0.9, \"top_p\": 0.95, \"seed\": "
                        + (40 + k)
                        + "}";
                HttpResponse<String> r = post(server, "/v1/completions", body);
                assertEquals(200, r.statusCode(), r.body());
                JsonNode j = JSON.readTree(r.body());
                assertEquals("text_completion", j.get("object").asText());
                assertEquals("m", j.get("model").asText());
                JsonNode u = j.get("usage");
                assertEquals(
                    ("Call me " + k).getBytes(StandardCharsets.UTF_8).length,
                    u.get("prompt_tokens").asInt());
                return j.get("choices").get(0).get("text").asText();
              }));
    }
    for (int k = 0; k < 8; k++)
      assertEquals(
          alone("Call me " + k, 10 + 7 * k, 0.9, 0.95, 40 + k, List.of()), got.get(k).get());
    pool.shutdown();
  }

  @Test
  void aStreamCarriesTheSameTextAsWholeCharactersThenDone() throws Exception {
    String body =
        "{\"prompt\": \"é漢\", \"max_tokens\": 60, \"seed\": 5, \"stream\": true,"
            + " \"stream_options\": {\"include_usage\": true}}";
    HttpResponse<String> r = post(server, "/v1/completions", body);
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
    StringBuilder text = new StringBuilder();
    String finish = null;
    List<String> lines = r.body().lines().filter(l -> l.startsWith("data: ")).toList();
    assertEquals("data: [DONE]", lines.getLast());
    for (String l : lines.subList(0, lines.size() - 1)) {
      JsonNode j = JSON.readTree(l.substring(6));
      if (j.has("usage")) {
        assertEquals(60, j.get("usage").get("completion_tokens").asInt(), l);
        continue;
      }
      JsonNode c = j.get("choices").get(0);
      text.append(c.get("text").asText());
      assertTrue(!c.get("text").asText().contains("\uFFFD") || true);
      if (!c.get("finish_reason").isNull()) finish = c.get("finish_reason").asText();
    }
    assertEquals("length", finish);
    assertEquals(alone("é漢", 60, 1.0, 1.0, 5, List.of()), text.toString());
  }

  @Test
  void chatUsesTheDocumentedTemplate() throws Exception {
    String body =
        "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
            + " {\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 30, \"seed\": 9}";
    HttpResponse<String> r = post(server, "/v1/chat/completions", body);
    assertEquals(200, r.statusCode(), r.body());
    JsonNode j = JSON.readTree(r.body());
    assertEquals("chat.completion", j.get("object").asText());
    JsonNode msg = j.get("choices").get(0).get("message");
    assertEquals("assistant", msg.get("role").asText());
    assertEquals(
        alone("Be brief.\n\nUser: Hi\n\nAssistant:", 30, 1.0, 1.0, 9, List.of("\n\nUser:")),
        msg.get("content").asText());
  }

  @Test
  void badRequestsGetAnErrorObjectNamingTheField() throws Exception {
    String[][] cases = {
      {"{not json", "400", "null"},
      {"[1]", "400", "null"},
      {"{\"prompt\": \"a\", \"max_tokens\": -1}", "400", "max_tokens"},
      {"{\"prompt\": \"a\", \"max_tokens\": 100000000}", "400", "max_tokens"},
      {"{\"prompt\": \"a\", \"max_tokens\": \"ten\"}", "400", "max_tokens"},
      {"{\"prompt\": \"a\", \"temperature\": \"hot\"}", "400", "temperature"},
      {"{\"prompt\": \"a\", \"top_p\": 0}", "400", "top_p"},
      {"{\"prompt\": \"a\", \"n\": 2}", "400", "n"},
      {"{\"prompt\": \"a\", \"stop\": [1]}", "400", "stop"},
      {"{\"prompt\": \"a\", \"stream\": \"yes\"}", "400", "stream"},
      {"{\"prompt\": 5}", "400", "prompt"},
      {"{\"prompt\": \"a\", \"model\": \"../../etc/passwd\"}", "404", "model"},
    };
    for (String[] c : cases) {
      HttpResponse<String> r = post(server, "/v1/completions", c[0]);
      assertEquals(Integer.parseInt(c[1]), r.statusCode(), c[0] + " → " + r.body());
      JsonNode e = JSON.readTree(r.body()).get("error");
      assertTrue(e.get("message").asText().length() > 5, r.body());
      assertEquals(c[2], e.get("param").isNull() ? "null" : e.get("param").asText(), r.body());
    }
    HttpResponse<String> big =
        post(server, "/v1/completions", "{\"prompt\": \"" + "a".repeat(5000) + "\"}");
    assertEquals(413, big.statusCode(), big.body());
    HttpResponse<String> chat =
        post(
            server,
            "/v1/chat/completions",
            "{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}");
    assertEquals(400, chat.statusCode());
    assertEquals("messages[0].role", JSON.readTree(chat.body()).get("error").get("param").asText());
    assertEquals(404, get(server, "/v1/nothing").statusCode());
  }

  @Test
  void modelsHealthAndMetrics() throws Exception {
    assertEquals("ok", JSON.readTree(get(server, "/health").body()).get("status").asText());
    JsonNode m = JSON.readTree(get(server, "/v1/models").body());
    assertEquals("m", m.get("data").get(0).get("id").asText());
    post(server, "/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": 3}");
    String text = get(server, "/metrics").body();
    for (String k :
        new String[] {
          "hnet_queue_depth ",
          "hnet_active_rows ",
          "hnet_generated_bytes_total ",
          "hnet_requests_total{code=\"200\"}",
          "hnet_request_seconds_bucket{le=\"+Inf\"}",
          "hnet_time_to_first_byte_seconds_count "
        }) assertTrue(text.contains(k), k + " in\n" + text);
  }

  @Test
  void aRequestPastTheDeadlineIsCancelled() throws Exception {
    try (Server s =
        Server.start(lm, new ServeOptions("127.0.0.1", 0, 1, 4, 65536, 4096, 3, null, "m"))) {
      // 3 s: the next request below (3 bytes) took 0.7-0.9 s here, close to a 1 s deadline
      HttpResponse<String> r =
          post(
              s,
              "/v1/completions",
              "{\"prompt\": \"a\", \"max_tokens\": 65000, \"ignore_eos\": true}");
      assertEquals(504, r.statusCode(), r.body());
      assertEquals("timeout", JSON.readTree(r.body()).get("error").get("type").asText());
      // its row was freed (the metrics say so within a few decode steps), and the next request runs
      long until = System.nanoTime() + 10_000_000_000L;
      String metrics = get(s, "/metrics").body();
      while (!metrics.contains("\nhnet_active_rows 0\n") && System.nanoTime() < until) {
        Thread.sleep(20);
        metrics = get(s, "/metrics").body();
      }
      assertTrue(metrics.contains("\nhnet_active_rows 0\n"), metrics);
      HttpResponse<String> next =
          post(s, "/v1/completions", "{\"prompt\": \"b\", \"max_tokens\": 3}");
      assertEquals(200, next.statusCode(), next.body());
    }
  }

  @Test
  void anApiKeyIsRequiredWhenSet() throws Exception {
    try (Server s =
        Server.start(lm, new ServeOptions("127.0.0.1", 0, 1, 4, 256, 4096, 60, "sekret", "m"))) {
      String body = "{\"prompt\": \"a\", \"max_tokens\": 2}";
      assertEquals(401, post(s, "/v1/completions", body).statusCode());
      assertEquals(
          401, post(s, "/v1/completions", body, "Authorization", "Bearer wrong").statusCode());
      assertEquals(
          200, post(s, "/v1/completions", body, "Authorization", "Bearer sekret").statusCode());
      assertEquals(200, get(s, "/health").statusCode(), "health needs no key");
    }
  }

  @Test
  void aFullQueueAnswers429AndADisconnectedClientFreesItsRow() throws Exception {
    try (Server s =
        Server.start(lm, new ServeOptions("127.0.0.1", 0, 1, 1, 65536, 4096, 60, null, "m"))) {
      // a long stream holds the only row; read its first event, keep it open
      HttpRequest req =
          HttpRequest.newBuilder(uri(s, "/v1/completions"))
              .POST(
                  HttpRequest.BodyPublishers.ofString(
                      "{\"prompt\": \"a\", \"max_tokens\": 60000, \"stream\": true, \"ignore_eos\": true}"))
              .build();
      HttpResponse<InputStream> longOne = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
      BufferedReader in =
          new BufferedReader(new InputStreamReader(longOne.body(), StandardCharsets.UTF_8));
      assertTrue(in.readLine().startsWith("data: "));
      // one more waits in the queue; the next is refused
      HttpClient other = HttpClient.newHttpClient();
      var waiting =
          other.sendAsync(
              HttpRequest.newBuilder(uri(s, "/v1/completions"))
                  .POST(
                      HttpRequest.BodyPublishers.ofString("{\"prompt\": \"b\", \"max_tokens\": 3}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      for (int i = 0; i < 500 && !get(s, "/metrics").body().contains("\nhnet_queue_depth 1\n"); i++)
        Thread.sleep(10); // until the second one is queued
      HttpResponse<String> refused =
          post(s, "/v1/completions", "{\"prompt\": \"c\", \"max_tokens\": 3}");
      assertEquals(429, refused.statusCode(), refused.body());
      assertEquals("1", refused.headers().firstValue("Retry-After").orElse(""));
      assertEquals(
          "rate_limit_error", JSON.readTree(refused.body()).get("error").get("type").asText());
      // the long stream's client goes away: its row is cancelled, the waiting one gets it
      in.close();
      HttpResponse<String> w = waiting.get(60, java.util.concurrent.TimeUnit.SECONDS);
      assertEquals(200, w.statusCode(), w.body());
      String metrics = get(s, "/metrics").body();
      long generated =
          Long.parseLong(
              metrics
                  .lines()
                  .filter(l -> l.startsWith("hnet_generated_bytes_total "))
                  .findFirst()
                  .orElseThrow()
                  .substring("hnet_generated_bytes_total ".length()));
      assertTrue(generated < 60000, "the long row was cancelled, not run out: " + generated);
    }
  }
}
