package org.hnet.train.data;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.hnet.HNetException;
import org.hnet.config.HNetConfig;

/**
 * A corpus as the token-level baseline sees it: the same train and eval parts as {@link Corpus}
 * (the same cut, the same documents), each document tokenized on its own and preceded by the
 * separator id, held in memory. Training rows are i.i.d. windows of L tokens drawn exactly as
 * {@link WindowStream} draws bytes (same hash of (seed, row), positions over the token stream);
 * eval rows are the eval part's tokens in order. Every batch counts the text bytes its targets
 * stand for ({@link Batch#bytes()}), so bits per byte = total NLL / those bytes, comparable with
 * the byte-level models' on the same text.
 */
public final class TokenCorpus {
  /** Largest part read into memory (bytes of text). */
  public static final long MAX_PART_BYTES = 1L << 30;

  private final BpeTokenizer tokenizer;
  private final int[] train;
  private final int[] eval;
  private final double bytesPerToken;

  /** Tokenizes both parts of {@code corpus}; documents must be UTF-8 text. */
  public TokenCorpus(Corpus corpus, BpeTokenizer tokenizer) {
    this(corpus, tokenizer, true);
  }

  private TokenCorpus(Corpus corpus, BpeTokenizer tokenizer, boolean withTrain) {
    this.tokenizer = tokenizer;
    String why = "a token-level model reads into memory to tokenize";
    this.train =
        withTrain
            ? tokenize(corpus.readPart(true, MAX_PART_BYTES, why), corpus, "train")
            : new int[0];
    long tokens = 0;
    for (int id : train) if (id != tokenizer.separator()) tokens++;
    this.bytesPerToken = tokens == 0 ? Double.NaN : (double) textBytes(train) / tokens;
    this.eval = tokenize(corpus.readPart(false, MAX_PART_BYTES, why), corpus, "eval");
  }

  /**
   * The eval batches of {@code corpus} as a model with config {@code cfg} reads them: bytes, or the
   * tokens of its tokenizer (only the eval part is tokenized).
   */
  public static Iterable<Batch> evalBatches(HNetConfig cfg, Corpus corpus, int B, int L) {
    if (cfg.tokenizer() == null) return corpus.eval(B, L);
    BpeTokenizer t = BpeTokenizer.of(cfg.tokenizer(), cfg.vocabSize(), "the model's config");
    return new TokenCorpus(corpus, t, false).eval(B, L);
  }

  public BpeTokenizer tokenizer() {
    return tokenizer;
  }

  /** Tokens in the train part, separators included (the n of its random windows). */
  public long trainTokens() {
    return train.length;
  }

  /** Mean text bytes per token of the train part (separators not counted as tokens). */
  public double bytesPerToken() {
    return bytesPerToken;
  }

  private long textBytes(int[] ids) {
    int[] len = tokenizer.bytesOf();
    long n = 0;
    for (int id : ids) n += len[id];
    return n;
  }

  /** Splits packed bytes at the BOS bytes and tokenizes each document after its separator. */
  private int[] tokenize(byte[] packed, Corpus corpus, String part) {
    var dec =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    int[] out = new int[Math.max(16, packed.length / 3)];
    int n = 0;
    int sep = tokenizer.separator();
    for (int a = 0; a < packed.length; ) {
      int start = packed[a] == PackedReader.BOS ? a + 1 : a;
      int end = start;
      while (end < packed.length && packed[end] != PackedReader.BOS) end++;
      String text;
      try {
        text = dec.decode(ByteBuffer.wrap(packed, start, end - start)).toString();
      } catch (CharacterCodingException e) {
        throw new HNetException(
            corpus.name()
                + ": the document at byte "
                + start
                + " of the "
                + part
                + " part is not UTF-8 text, which a token-level model needs");
      }
      int[] ids = tokenizer.encode(text);
      if (n + ids.length + 1 > out.length) {
        out = Arrays.copyOf(out, Math.max(out.length * 2, n + ids.length + 1));
      }
      if (start > a) out[n++] = sep;
      System.arraycopy(ids, 0, out, n, ids.length);
      n += ids.length;
      a = end;
    }
    return Arrays.copyOf(out, n);
  }

  /** An endless stream of batches of i.i.d. windows of L tokens. */
  public BatchStream train(int B, int L, long seed) {
    return train(B, L, DataState.random(seed, 0, L, train.length));
  }

  /** Continues exactly where the stream that produced {@code state} was. */
  public BatchStream train(int B, int L, DataState state) {
    if (state.sampling() != Sampling.RANDOM) {
      throw new HNetException("a token-level model draws its rows at random (--sampling random)");
    }
    if (state.trainBytes() != train.length) {
      throw new HNetException(
          "data state is for a train part of "
              + state.trainBytes()
              + " tokens, this corpus has "
              + train.length
              + ": not the same corpus or eval fraction");
    }
    if (state.seqLen() != L) {
      throw new HNetException(
          "data state is for rows of " + state.seqLen() + " tokens, asked for " + L);
    }
    if (B < 1 || L < 1 || (long) B * L > Integer.MAX_VALUE - 16) {
      throw new HNetException("batch of " + B + " rows × " + L + " tokens is out of range");
    }
    if (train.length == 0) throw new HNetException("the train part holds no tokens");
    return new BatchStream() {
      private long row = state.row();
      private final int[] ids = new int[B * L];

      @Override
      public Batch next() {
        long n = train.length;
        for (int r = 0; r < B; r++) {
          long p = WindowStream.start(state.seed(), row, n);
          for (int done = 0; done < L; ) {
            int k = (int) Math.min(L - done, n - p);
            System.arraycopy(train, (int) p, ids, r * L + done, k);
            done += k;
            p = 0; // wrapped: the part's start (a separator)
          }
          row++;
        }
        return Batch.of(ids.clone(), B, L, ids.length, tokenizer.separator(), tokenizer.bytesOf());
      }

      @Override
      public DataState state() {
        return DataState.random(state.seed(), row, L, train.length);
      }

      @Override
      public void close() {}
    };
  }

  /**
   * One pass over the eval part's tokens in order, as batches of up to B rows of L tokens, the last
   * row padded (as {@link Corpus#eval}).
   */
  public Iterable<Batch> eval(int B, int L) {
    if (B < 1 || L < 1 || (long) B * L > Integer.MAX_VALUE - 16) {
      throw new HNetException("eval batch of " + B + " × " + L + " is out of range");
    }
    return () ->
        new Iterator<>() {
          private int at = 0;

          @Override
          public boolean hasNext() {
            return at < eval.length;
          }

          @Override
          public Batch next() {
            if (!hasNext()) throw new NoSuchElementException();
            int rows = (int) Math.min(B, ((long) eval.length - at + L - 1) / L);
            int valid = Math.min(rows * L, eval.length - at);
            int[] ids = new int[rows * L];
            System.arraycopy(eval, at, ids, 0, valid);
            at += valid;
            return Batch.of(ids, rows, L, valid, tokenizer.separator(), tokenizer.bytesOf());
          }
        };
  }
}
