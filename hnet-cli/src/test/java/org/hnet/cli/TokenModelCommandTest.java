package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A token-level baseline through the commands a user runs on it, and those that refuse it. */
class TokenModelCommandTest {
  @Test
  void trainEvalInspectTakeItGenerateAndChunksRefuseIt(@TempDir Path tmp) throws Exception {
    Path cfg =
        Files.writeString(
            tmp.resolve("bpe.json"),
            """
            {"arch_layout": ["T1"], "d_model": [32], "d_intermediate": [64], "vocab_size": 1025,
             "tokenizer": "r50k_base:1024",
             "attn_cfg": {"num_heads": [2], "rotary_emb_dim": [8], "window_size": [-1]}}
            """);
    Path data =
        Files.writeString(
            tmp.resolve("d.txt"),
            "Call me Ishmael. Some years ago, never mind how long precisely, having little money.\n"
                .repeat(200));
    Path run = tmp.resolve("run");
    var t =
        ForwardCommandTest.run(
            "train",
            "--config",
            cfg.toString(),
            "--data",
            data.toString(),
            "--out",
            run.toString(),
            "--steps",
            "3",
            "--batch",
            "2",
            "--seq-len",
            "32",
            "--no-progress",
            "--threads",
            "1");
    assertEquals(0, t.code(), t.err());
    assertTrue(t.out().contains("held-out: "), t.out());
    assertTrue(!t.out().contains("no chunking stage"), t.out());

    var e =
        ForwardCommandTest.run(
            "eval",
            "--model",
            run.toString(),
            "--data",
            data.toString(),
            "--held-out",
            "0.1",
            "--json",
            "--no-progress");
    assertEquals(0, e.code(), e.err());
    var j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(e.out());
    assertTrue(j.get("bpb").asDouble() > 0 && j.get("bpb").asDouble() < 20, e.out());
    assertTrue(j.get("bytes").asLong() > 500, "bytes of text, not tokens: " + e.out());

    var i =
        ForwardCommandTest.run(
            "inspect", "--model", run.toString(), "--data", data.toString(), "--seq-len", "128");
    assertEquals(0, i.code(), i.err());
    assertTrue(i.out().contains("tokenizer r50k_base:1024"), i.out());
    assertTrue(i.out().contains("FLOPs per token (rows of 128 tokens)"), i.out());
    assertTrue(i.out().contains("bytes per token, measured on"), i.out());

    // a corpus that is not UTF-8 text: one line, and no half-made run left behind
    byte[] bad =
        "Call me Ishmael. \n".repeat(300).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    bad[100] = (byte) 0xff;
    Path binary = Files.write(tmp.resolve("bad.txt"), bad);
    Path badRun = tmp.resolve("bad-run");
    var b =
        ForwardCommandTest.run(
            "train",
            "--config",
            cfg.toString(),
            "--data",
            binary.toString(),
            "--out",
            badRun.toString(),
            "--steps",
            "2",
            "--batch",
            "2",
            "--seq-len",
            "32",
            "--no-progress",
            "--any-bytes",
            "--threads",
            "1");
    assertEquals(1, b.code(), b.err());
    ForwardCommandTest.assertOneLine(b.err(), "is not UTF-8 text");
    assertTrue(!Files.exists(badRun), "no run directory left: " + badRun);

    for (String[] refused :
        new String[][] {
          {"generate", "--model", run.toString(), "--prompt", "Call"},
          {"chunks", "--model", run.toString(), "--text", "Call me"}
        }) {
      var r = ForwardCommandTest.run(refused);
      assertEquals(1, r.code(), refused[0] + ": " + r.err());
      ForwardCommandTest.assertOneLine(r.err(), "token-level");
    }
  }
}
