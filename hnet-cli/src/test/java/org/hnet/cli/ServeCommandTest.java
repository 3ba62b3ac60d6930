package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** `hnet serve`'s mistakes: usage errors before anything starts, a busy port in one line. */
class ServeCommandTest {
  static final String MODEL = ForwardCommandTest.GOLDEN.resolve("2stage").toString();

  @Test
  void theLoadTestChecksEveryStream() {
    var r =
        ForwardCommandTest.run(
            "loadtest",
            "--model",
            MODEL,
            "--clients",
            "5",
            "--max-bytes",
            "12",
            "--max-batch",
            "2",
            "--threads",
            "1");
    assertEquals(0, r.code(), r.err());
    org.junit.jupiter.api.Assertions.assertTrue(
        r.out().contains("5 clients × 12 bytes, server batch 2: 0 failed, 0 differ"), r.out());
    org.junit.jupiter.api.Assertions.assertTrue(
        r.out().contains("time to first byte: p50"), r.out());
  }

  @Test
  void mistakesAreOneLine() throws Exception {
    for (String[] bad :
        new String[][] {
          {"--max-batch", "0"},
          {"--max-queue", "-1"},
          {"--port", "70000"},
          {"--max-len", "1"},
          {"--api-key-env", "HNET_SURELY_UNSET_VARIABLE"}
        }) {
      String[] args = new String[3 + bad.length];
      System.arraycopy(new String[] {"serve", "--model", MODEL}, 0, args, 0, 3);
      System.arraycopy(bad, 0, args, 3, bad.length);
      var r = ForwardCommandTest.run(args);
      assertEquals(2, r.code(), String.join(" ", bad) + ": " + r.err());
      ForwardCommandTest.assertOneLine(r.err(), bad[0]);
    }
    try (ServerSocket busy = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      var r =
          ForwardCommandTest.run(
              "serve", "--model", MODEL, "--port", Integer.toString(busy.getLocalPort()));
      assertEquals(1, r.code(), r.err());
      ForwardCommandTest.assertOneLine(
          r.err(), "cannot listen on 127.0.0.1:" + busy.getLocalPort());
    }
  }
}
