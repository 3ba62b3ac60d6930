package org.hnet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.hnet.HNetException;
import org.hnet.config.HNetConfig;
import org.hnet.io.Checkpoints;
import org.hnet.io.DType;
import org.hnet.io.SafeTensors;
import org.hnet.io.TensorData;
import org.hnet.kernels.CompactWeight;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.SeqLens;
import org.hnet.nn.Tape;
import org.hnet.nn.WeightFormat;
import org.hnet.testing.Allocations;
import org.hnet.train.data.Corpus;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A small trained model with its large weights in bf16 and int8: quality against float32 on
 * held-out text, the files {@code hnet quantize} writes, decoding, and what a compact model
 * refuses.
 */
class CompactWeightsModelTest {
  @TempDir static Path tmp;
  static Path model;
  static Path data;

  /** Trains the tiny model of TrainerTest on varied pseudo-English (a few seconds). */
  @BeforeAll
  static void train() throws IOException {
    String[] words = {
      "the", "of", "and", "to", "a", "in", "that", "is", "was", "he", "for", "it", "with", "as",
      "his", "on", "be", "at", "by", "had", "whale", "ship", "sea", "captain", "long", "never",
      "years", "ago", "little", "money", "nothing", "world", "water", "part", "shore", "sail"
    };
    Random r = new Random(11);
    StringBuilder sb = new StringBuilder();
    while (sb.length() < 120_000) {
      int n = 4 + r.nextInt(10);
      for (int i = 0; i < n; i++) {
        String w = words[(int) Math.min(words.length - 1, Math.abs(r.nextGaussian()) * 12)];
        sb.append(i == 0 ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w);
        sb.append(i + 1 < n ? " " : ". ");
      }
      if (r.nextInt(6) == 0) sb.append('\n');
    }
    data = tmp.resolve("corpus.txt");
    Files.writeString(data, sb);
    Path run = tmp.resolve("run");
    try (Trainer t =
        Trainer.start(
            run, HNetConfig.parse(TrainerTest.TINY, "tiny"), data, TrainerTest.options(150))) {
      t.run(new Trainer.Listener() {}, () -> false);
    }
    model = run.resolve("checkpoint");
  }

  static Evaluator.Result[] score(WeightFormat a, WeightFormat b, double[][] agreement) {
    HNetForCausalLM x = HNetForCausalLM.load(model, a);
    Evaluator.Agreement ag = new Evaluator.Agreement(HNetForCausalLM.load(model, b));
    try (Corpus c = Corpus.open(data, 0.1)) {
      Evaluator.Result rx = Evaluator.evaluate(x, c.eval(4, 256), 0, ag);
      agreement[0] = ag.agreement();
      return new Evaluator.Result[] {rx, ag.result()};
    }
  }

  @Test
  void reducedPrecisionKeepsTheBitsPerByteAndTheBoundaries() {
    double[][] agree = new double[1][];
    Evaluator.Result[] bf = score(WeightFormat.BF16, WeightFormat.F32, agree);
    double f32 = bf[1].bpb();
    assertTrue(f32 < 3.0, "the model learned something: " + f32);
    assertTrue(Math.abs(bf[0].bpb() - f32) <= 0.002, "bf16 " + bf[0].bpb() + " vs " + f32);
    assertTrue(agree[0][0] >= 0.99, "bf16 boundaries " + agree[0][0]);
    Evaluator.Result[] q = score(WeightFormat.INT8, WeightFormat.F32, agree);
    assertEquals(f32, q[1].bpb(), 0.0);
    assertTrue(Math.abs(q[0].bpb() - f32) <= 0.01, "int8 " + q[0].bpb() + " vs " + f32);
    assertTrue(agree[0][0] >= 0.99, "int8 boundaries " + agree[0][0]);
    // the comparison sees a difference where there is one: the same model agrees exactly
    Evaluator.Result[] same = score(WeightFormat.F32, WeightFormat.F32, agree);
    assertEquals(same[0].bpb(), same[1].bpb(), 0.0);
    assertEquals(1.0, agree[0][0], 0.0);
    assertTrue(q[0].bpb() != f32, "int8 changes the weights");
  }

  @Test
  void aQuantizedDirectoryLoadsAsItIsAndScoresAsTheModelItWasMadeFrom() throws IOException {
    for (WeightFormat f : new WeightFormat[] {WeightFormat.BF16, WeightFormat.INT8}) {
      HNetForCausalLM lm = HNetForCausalLM.load(model, f);
      Path dir = tmp.resolve("q-" + f.label());
      Files.createDirectories(dir);
      Map<String, String> meta = Map.of(Checkpoints.WEIGHTS_KEY, f.label());
      SafeTensors.write(dir.resolve("model.safetensors"), Checkpoints.stateDict(lm), meta);
      Files.copy(model.resolve("config.json"), dir.resolve("config.json"));
      assertEquals(f, Checkpoints.storedFormat(dir));
      HNetForCausalLM back = HNetForCausalLM.load(dir); // as stored
      assertEquals(f, back.weightFormat);
      int[] tokens = "It was the whale, never the ship.".chars().toArray();
      SeqLens seqs = SeqLens.uniform(1, tokens.length);
      assertArrayEquals(
          lm.forward(tokens, seqs).logits(), back.forward(tokens, seqs).logits(), 0f, f.label());
      // the file is smaller: bf16 halves the large weights, int8 quarters them (plus scales)
      long size = Files.size(dir.resolve("model.safetensors"));
      long full = Files.size(model.resolve("model.safetensors"));
      assertTrue(size < (f == WeightFormat.BF16 ? 0.75 : 0.6) * full, size + " of " + full);
      // loaded as float32, the quantized weights are what they were
      HNetForCausalLM wide = HNetForCausalLM.load(dir, WeightFormat.F32);
      assertNull(wide.parameters.get("backbone.encoder.layers.0.mixer.in_proj.weight").compact);
      assertArrayEquals(
          lm.parameters.get("backbone.encoder.layers.0.mixer.in_proj.weight").floats(),
          wide.parameters.get("backbone.encoder.layers.0.mixer.in_proj.weight").data,
          0f);
    }
  }

  @Test
  void onlyTheLargeProductsAreCompact() {
    HNetForCausalLM lm = HNetForCausalLM.load(model, WeightFormat.INT8);
    int compact = 0;
    for (var p : lm.parameters.values()) {
      boolean large =
          p.name.endsWith("in_proj.weight")
              || p.name.endsWith("out_proj.weight")
              || p.name.endsWith("Wqkv.weight")
              || p.name.endsWith(".fc1.weight")
              || p.name.endsWith(".fc2.weight");
      assertEquals(large, p.compact != null, p.name);
      if (large) {
        compact++;
        assertEquals(CompactWeight.Format.INT8, p.compact.format);
      }
    }
    assertTrue(compact >= 5, "compact weights: " + compact);
  }

  @Test
  void decodingWithCompactWeightsFollowsTheForward() {
    HNetForCausalLM lm = HNetForCausalLM.load(model, WeightFormat.INT8);
    byte[] text = "The captain had never seen the sea.".getBytes();
    int[] tokens = new int[text.length];
    for (int i = 0; i < text.length; i++) tokens[i] = text[i] & 0xFF;
    float[] full = lm.forward(tokens, SeqLens.uniform(1, tokens.length)).logits();
    HNetForCausalLM.Cache c = lm.allocate(1, tokens.length);
    lm.prefill(new int[] {tokens[0]}, SeqLens.uniform(1, 1), c);
    float[] step = null;
    for (int t = 1; t < tokens.length; t++)
      step = lm.step(new int[] {tokens[t]}, c, new boolean[] {true}).logits();
    int V = lm.vocab, last = tokens.length - 1;
    for (int v = 0; v < V; v++)
      assertEquals(full[last * V + v], step[v], 2e-3f * (1 + Math.abs(full[last * V + v])));
  }

  @Test
  void aCompactModelRefusesToTrainAndSaysWhy() {
    HNetForCausalLM lm = HNetForCausalLM.load(model, WeightFormat.BF16);
    int[] tokens = {1, 2, 3, 4};
    HNetException e =
        assertThrows(
            HNetException.class, () -> lm.forward(tokens, SeqLens.uniform(1, 4), new Tape()));
    assertTrue(e.getMessage().contains("--weights f32"), e.getMessage());
  }

  @Test
  void malformedInt8FilesAreNamed() throws IOException {
    HNetForCausalLM lm = HNetForCausalLM.load(model, WeightFormat.INT8);
    Map<String, TensorData> sd = new LinkedHashMap<>(Checkpoints.stateDict(lm));
    String w = "backbone.encoder.layers.0.mixer.in_proj.weight";
    // scales of the wrong shape
    Map<String, TensorData> bad = new LinkedHashMap<>(sd);
    bad.put(w + Checkpoints.SCALE_SUFFIX, TensorData.ofFloats(new int[] {1, 1}, new float[1]));
    Path dir = tmp.resolve("bad");
    Files.createDirectories(dir);
    Files.copy(model.resolve("config.json"), dir.resolve("config.json"));
    SafeTensors.write(dir.resolve("model.safetensors"), bad, Map.of());
    HNetException e = assertThrows(HNetException.class, () -> HNetForCausalLM.load(dir));
    assertTrue(e.getMessage().contains(w) && e.getMessage().contains("scales"), e.getMessage());
    // an I8 weight without its scales is no floating-point weight
    bad = new LinkedHashMap<>(sd);
    bad.remove(w + Checkpoints.SCALE_SUFFIX);
    SafeTensors.write(dir.resolve("model.safetensors"), bad, Map.of());
    e = assertThrows(HNetException.class, () -> HNetForCausalLM.load(dir));
    assertTrue(
        e.getMessage().contains("not floating point") && e.getMessage().contains(w),
        e.getMessage());
    // an unknown format in the metadata
    SafeTensors.write(
        dir.resolve("model.safetensors"), sd, Map.of(Checkpoints.WEIGHTS_KEY, "int4"));
    e = assertThrows(HNetException.class, () -> HNetForCausalLM.load(dir));
    assertTrue(e.getMessage().contains("int4"), e.getMessage());
    assertNotNull(HNetForCausalLM.load(dir, WeightFormat.INT8)); // a format asked: metadata unread
  }

  /**
   * Large weights go from the file straight into the kernels' arrays, from a compact directory
   * (bf16 as its bits) or converted row by row from a float32, F16 or BF16 one (the same model as
   * the widened tensors give): loading allocates about the compact bytes once plus the float32
   * rest. Measured with this model (12.1 MB of bf16 or 6.8 MB of int8 with its scales, 1.4 MB of
   * float32): bf16 14.0 MB, int8 9.2 MB, from any of them. Before, a weight was read whole as
   * float32 first (bf16 directory 50.2 MB) and int8 values were copied once more (15.4 MB); the
   * collector left those copies in the heap, so that a bf16 model's peak memory after loading
   * exceeded the float32 model's (2stage_XL: 9.5 against 6.5 GB).
   */
  @Test
  void largeWeightsLoadWithoutAnotherCopyOfThem() throws IOException {
    String json =
        """
        {"arch_layout": ["m1", ["T2"], "m1"], "d_model": [256, 512], "d_intermediate": [0, 1024],
         "ssm_cfg": {"d_state": 16, "expand": 2, "chunk_size": 16, "d_conv": 4},
         "attn_cfg": {"num_heads": [4, 8], "rotary_emb_dim": [32, 32], "window_size": [-1, -1]}}
        """;
    HNetConfig cfg = HNetConfig.parse(json, "wide");
    Path wide =
        write(
            tmp.resolve("wide-f32"),
            json,
            Checkpoints.stateDict(make(cfg, WeightFormat.F32)),
            WeightFormat.F32);
    for (WeightFormat f : new WeightFormat[] {WeightFormat.BF16, WeightFormat.INT8}) {
      HNetForCausalLM lm = make(cfg, f);
      long compact = 0, rest = 0;
      for (org.hnet.nn.Param p : lm.parameters.values()) {
        if (p.compact != null) compact += p.compact.bytes();
        else rest += 4L * p.data.length;
      }
      assertTrue(compact > 4 * rest, compact + " bytes compact, " + rest + " float32");
      // what hnet quantize writes: no copy of bf16 bits or int8 values (the file writer takes
      // them a chunk at a time), only of int8 scales (an eighth of the values, copied twice on
      // the way); with copies of the bits and the bytes, quantizing 2stage_XL to bf16 peaked at
      // 12.7 GB. Measured: bf16 1.4 MB (was 13.5 with one copy, 37.7 with three), int8 2.9 MB
      // (the float32 rest, 1.4 MB, is copied either way)
      long s0 = Allocations.ofThisThread();
      Map<String, TensorData> sd = Checkpoints.stateDict(lm);
      long saved = Allocations.ofThisThread() - s0;
      assertTrue(
          saved < rest + (f == WeightFormat.BF16 ? 0.05 : 0.3) * compact,
          saved + " bytes allocated for the state dict of " + f.label() + ": " + compact);
      Path dir = write(tmp.resolve("wide-" + f.label()), json, sd, f);
      int[] tokens = "It was the whale.".chars().toArray();
      SeqLens seqs = SeqLens.uniform(1, tokens.length);
      float[] want = lm.forward(tokens, seqs).logits();
      for (Path from : new Path[] {dir, wide}) {
        long a0 = Allocations.ofThisThread();
        HNetForCausalLM back = HNetForCausalLM.load(from, f);
        long used = Allocations.ofThisThread() - a0;
        String what = f.label() + " from " + from.getFileName();
        assertTrue(
            used < rest + 1.4 * compact,
            used + " bytes allocated to load " + what + ": " + compact + " compact, " + rest);
        assertArrayEquals(want, back.forward(tokens, seqs).logits(), 0f, what);
      }
      // every tensor in F16 or BF16, as a published checkpoint may hold them: rows converted
      // as they are read give the model that the widened tensors give
      for (DType half : new DType[] {DType.F16, DType.BF16}) {
        Map<String, TensorData> halves = new LinkedHashMap<>();
        Map<String, float[]> widened = new LinkedHashMap<>();
        for (Map.Entry<String, TensorData> e :
            Checkpoints.stateDict(make(cfg, WeightFormat.F32)).entrySet()) {
          TensorData t = halfOf(half, e.getValue());
          halves.put(e.getKey(), t);
          widened.put(e.getKey(), t.toFloats());
        }
        Path from =
            write(tmp.resolve("wide-" + half + "-" + f.label()), json, halves, WeightFormat.F32);
        long a0 = Allocations.ofThisThread();
        HNetForCausalLM back = HNetForCausalLM.load(from, f);
        long used = Allocations.ofThisThread() - a0;
        String what = f.label() + " from " + half;
        assertTrue(
            used < rest + 1.4 * compact,
            used + " bytes allocated to load " + what + ": " + compact + " compact, " + rest);
        HNetForCausalLM ref =
            new HNetForCausalLM(cfg, new org.hnet.nn.Params(widened::remove, f, n -> null));
        assertArrayEquals(
            ref.forward(tokens, seqs).logits(), back.forward(tokens, seqs).logits(), 0f, what);
      }
    }
  }

  /** A float32 tensor rounded to F16 or BF16. */
  private static TensorData halfOf(DType half, TensorData t) {
    float[] v = t.toFloats();
    byte[] le = new byte[2 * v.length];
    for (int i = 0; i < v.length; i++) {
      short b = half == DType.F16 ? Float.floatToFloat16(v[i]) : CompactWeight.toBf16(v[i]);
      le[2 * i] = (byte) b;
      le[2 * i + 1] = (byte) (b >> 8);
    }
    return TensorData.ofBytes(half, t.shape(), le);
  }

  /** A model of cfg with random weights (seed 0), its large weights held in f. */
  private static HNetForCausalLM make(HNetConfig cfg, WeightFormat f) {
    Map<String, float[]> w = org.hnet.nn.Init.weights(cfg, 0);
    return new HNetForCausalLM(cfg, new org.hnet.nn.Params(w::remove, f, n -> null));
  }

  /** A model directory as hnet init or hnet quantize writes it. */
  private static Path write(Path dir, String json, Map<String, TensorData> sd, WeightFormat f)
      throws IOException {
    Files.createDirectories(dir);
    SafeTensors.write(
        dir.resolve("model.safetensors"), sd, Map.of(Checkpoints.WEIGHTS_KEY, f.label()));
    Files.writeString(dir.resolve("config.json"), json);
    return dir;
  }
}
