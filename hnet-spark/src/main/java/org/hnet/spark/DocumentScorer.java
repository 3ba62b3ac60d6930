package org.hnet.spark;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.hnet.generate.Generator;
import org.hnet.generate.Sampler;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.RoutingModule;
import org.hnet.nn.SeqLens;

/**
 * Scores documents with one model, several at once: the bits per byte of each (every byte predicted
 * from those before it, the first from BOS, as {@code hnet eval} and {@code hnet chunks} score a
 * document) and where its chunks start at every stage. Documents longer than the window are scored
 * in windows: the first starts with BOS, each later one repeats the last {@code overlap} bytes of
 * the one before as context (not scored again) and starts without BOS, so every byte is scored
 * once, with at least {@code overlap} bytes before it (all of them in the first window). Windows
 * and documents are packed into forward passes of up to {@code batchBytes} positions, shortest
 * first. Not thread-safe; one per task.
 */
public final class DocumentScorer {
  /** A document's result; {@code error} non-null (and the rest empty) for a bad row. */
  public record Result(double bpb, long bytes, long[] chunks, int[][] boundaries, String error) {
    static Result bad(String why) {
      return new Result(Double.NaN, 0, null, null, why);
    }
  }

  private final HNetForCausalLM lm;
  private final ScoreOptions o;
  private final int stages;

  public DocumentScorer(HNetForCausalLM lm, ScoreOptions o) {
    lm.requireBytes("hnet-spark");
    this.lm = lm;
    this.o = o;
    this.stages = lm.config.numStages() - 1;
  }

  /** The bytes of a document that can be scored, or the reason it cannot. */
  static Object check(byte[] doc, long maxBytes) {
    if (doc == null) return "null";
    if (doc.length == 0) return "empty";
    if (doc.length > maxBytes) return "over " + maxBytes + " bytes (" + doc.length + ")";
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(doc));
    } catch (CharacterCodingException e) {
      return "not UTF-8";
    }
    return doc;
  }

  /**
   * One window: its input positions; it scores bytes [from, to) of document doc, byte from sitting
   * at input index first.
   */
  private record Window(int doc, int[] tokens, int first, int from, int to) {}

  /**
   * Scores docs (null entries and bad ones get an error result), in their order.
   *
   * @param docs each document's bytes
   */
  public Result[] score(List<byte[]> docs) {
    Result[] out = new Result[docs.size()];
    List<Window> windows = new ArrayList<>();
    double[] nats = new double[docs.size()];
    boolean[][][] bounds = new boolean[docs.size()][][];
    for (int d = 0; d < docs.size(); d++) {
      Object c = check(docs.get(d), o.maxBytes());
      if (c instanceof String why) {
        out[d] = Result.bad(why);
        continue;
      }
      byte[] b = (byte[]) c;
      bounds[d] = new boolean[stages][b.length];
      int n = b.length;
      for (int a = 0; a < n; ) {
        // the first window starts with BOS; a later one with its context, or with BOS without one
        int start = a == 0 ? 0 : a - o.overlap();
        boolean bos = a == 0 || o.overlap() == 0;
        int end = Math.min(n, start + o.window());
        int[] tok = new int[end - start + (bos ? 1 : 0)];
        int j = 0;
        if (bos) tok[j++] = Generator.BOS;
        for (int t = start; t < end; t++) tok[j++] = b[t] & 0xff;
        windows.add(new Window(d, tok, a - start + (bos ? 1 : 0), a, end)); // input index of byte a
        a = end;
      }
    }
    windows.sort(Comparator.comparingInt(w -> w.tokens.length));
    int i = 0;
    while (i < windows.size()) {
      int j = i, total = 0;
      while (j < windows.size()
          && (j == i || total + windows.get(j).tokens.length <= o.batchBytes()))
        total += windows.get(j++).tokens.length;
      run(windows.subList(i, j), total, docs, nats, bounds);
      i = j;
    }
    for (int d = 0; d < docs.size(); d++) {
      if (out[d] != null) continue;
      byte[] b = docs.get(d);
      long[] chunks = new long[stages];
      int[][] starts = o.boundaries() || o.chunkTexts() ? new int[stages][] : null;
      for (int s = 0; s < stages; s++) {
        bounds[d][s][0] = true; // the document's first byte starts a chunk
        int c = 0;
        for (boolean x : bounds[d][s]) if (x) c++;
        chunks[s] = c;
        if (starts != null) {
          int[] st = new int[c];
          for (int t = 0, k = 0; t < b.length; t++) if (bounds[d][s][t]) st[k++] = t;
          starts[s] = st;
        }
      }
      out[d] = new Result(nats[d] / b.length / Math.log(2), b.length, chunks, starts, null);
    }
    return out;
  }

  private void run(
      List<Window> ws, int total, List<byte[]> docs, double[] nats, boolean[][][] bounds) {
    int[] tokens = new int[total];
    int[] cu = new int[ws.size() + 1];
    for (int k = 0, p = 0; k < ws.size(); k++) {
      int[] t = ws.get(k).tokens;
      System.arraycopy(t, 0, tokens, p, t.length);
      p += t.length;
      cu[k + 1] = p;
    }
    HNetForCausalLM.Output out = lm.forward(tokens, new SeqLens(cu));
    List<boolean[]> bl = RoutingModule.byteLevel(out.routing(), total).boundaries();
    int V = lm.vocab;
    for (int k = 0; k < ws.size(); k++) {
      Window w = ws.get(k);
      byte[] b = docs.get(w.doc);
      int base = cu[k];
      // byte t sits at input index base + w.first + (t - w.from); predicted by the logits before it
      for (int t = w.from; t < w.to; t++) {
        int idx = base + w.first + (t - w.from);
        nats[w.doc] -= Sampler.logProb(out.logits(), (idx - 1) * V, V, b[t] & 0xff);
        for (int s = 0; s < stages; s++) bounds[w.doc][s][t] = bl.get(s)[idx];
      }
    }
  }

  /**
   * The stage-1 chunks of a document as strings: each chunk start moved back to the start of its
   * character when it falls inside one (as {@code hnet chunks} marks it), repeated starts merged.
   */
  public static String[] chunkTexts(byte[] doc, int[] starts) {
    int[] s = new int[starts.length];
    int n = 0;
    for (int x : starts) {
      while (x > 0 && (doc[x] & 0xC0) == 0x80) x--;
      if (n == 0 || s[n - 1] != x) s[n++] = x;
    }
    String[] out = new String[n];
    for (int k = 0; k < n; k++) {
      int a = s[k], e = k + 1 < n ? s[k + 1] : doc.length;
      out[k] = new String(doc, a, e - a, StandardCharsets.UTF_8);
    }
    return out;
  }
}
