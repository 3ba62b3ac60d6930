package org.hnet.train.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.hnet.HNetException;

/**
 * A training corpus, split into a train part and a held-out eval part.
 *
 * <h2>Sources</h2>
 *
 * <ul>
 *   <li>a directory: every regular file of the tree is one document, in order of relative path
 *       (compared as strings with '/' separators); names starting with '.' are skipped, symbolic
 *       links are not followed;
 *   <li>{@code *.jsonl} or {@code *.jsonl.gz}: each non-blank line is a JSON object whose string
 *       field {@code jsonField} (default {@code text}) is one document, as UTF-8;
 *   <li>any other file: its raw bytes are one document.
 * </ul>
 *
 * Files ending in {@code .gz} (alone or in a directory) are decompressed on the fly. The byte
 * stream is every document preceded by BOS (254), documents back to back; nothing is loaded whole,
 * each pass re-reads the source.
 *
 * <h2>Split</h2>
 *
 * The eval part is the last {@code evalFraction} of the stream's bytes. With T total bytes and t =
 * T − round(evalFraction·T), the cut is the first document start at or after t. If t falls inside
 * the last document (always the case for a one-document corpus), that document is cut instead just
 * after the first newline at or after t, or exactly at t if no newline follows; the eval part then
 * begins with an extra BOS, so each part is whole documents starting with BOS. Train is the stream
 * before the cut, eval the rest; they never overlap. The eval part is at most the fraction asked
 * for (less when the documents near the cut are long).
 *
 * <p>Opening reads the source once to measure it and once more up to the cut (for plain files and
 * directories this only looks at file sizes and the text around the cut).
 */
public final class Corpus implements AutoCloseable {
  /** Default shuffle block: rows are shuffled within groups of this many. */
  public static final int DEFAULT_BLOCK_ROWS = 1024;

  private final DocSource source;
  private final long totalBytes;
  private final long documents;
  private final long cut;
  private final boolean evalBos;
  private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();
  private Runnable onClose;

  private Corpus(DocSource source, long totalBytes, long documents, long cut, boolean evalBos) {
    this.source = source;
    this.totalBytes = totalBytes;
    this.documents = documents;
    this.cut = cut;
    this.evalBos = evalBos;
  }

  public static Corpus open(Path path, double evalFraction) {
    return open(path, evalFraction, "text");
  }

  /**
   * Opens {@code path} (directory, JSONL or single file, see above) and splits it.
   *
   * @param evalFraction share of bytes held out, in [0, 1)
   * @param jsonField JSONL field holding the text; null means {@code text}
   */
  public static Corpus open(Path path, double evalFraction, String jsonField) {
    if (!(evalFraction >= 0 && evalFraction < 1)) {
      throw new HNetException("eval fraction must be in [0, 1): " + evalFraction);
    }
    return split(source(path, jsonField), evalFraction);
  }

  /**
   * Opens {@code path} for evaluation as a whole: everything is in the eval part (what
   * {@code hnet eval} scores), nothing in the train part.
   */
  public static Corpus openWhole(Path path, String jsonField) {
    return openWhole(path, jsonField, null);
  }

  /**
   * As {@link #openWhole(Path, String)} with every document replaced by {@code transform(document)}
   * (null: unchanged), e.g. a perturbation for a robustness evaluation.
   */
  public static Corpus openWhole(Path path, String jsonField, java.util.function.UnaryOperator<byte[]> transform) {
    DocSource source = transform == null ? source(path, jsonField) : new MappedSource(source(path, jsonField), transform);
    long[] size = count(source); // {bytes, documents}
    long total = size[0], docs = size[1];
    return new Corpus(source, total, docs, 0, false);
  }

  /** {total bytes (BOS included), documents} of a source, by one pass over it. */
  private static long[] count(DocSource source) {
    long docs = 0;
    try (PackedReader r = new PackedReader(source)) {
      while (r.nextDocumentStart() >= 0) {
        docs++;
        r.skip(1);
      }
      if (docs == 0) throw new HNetException(source.name() + ": no documents");
      return new long[] {r.position(), docs};
    }
  }

  private static DocSource source(Path path, String jsonField) {
    if (!Files.exists(path)) throw new HNetException(path + ": no such file or directory");
    String name = path.getFileName() == null ? "" : path.getFileName().toString();
    name = name.toLowerCase(Locale.ROOT);
    DocSource source;
    try {
      if (Files.isDirectory(path)) {
        source = FileSource.directory(path);
      } else if (name.endsWith(".jsonl") || name.endsWith(".jsonl.gz")) {
        source = new JsonlSource(path, jsonField == null ? "text" : jsonField);
      } else {
        source = FileSource.single(path);
      }
    } catch (IOException e) {
      throw new HNetException(path + ": cannot list: " + e.getMessage(), e);
    }
    return source;
  }

  private static Corpus split(DocSource source, double evalFraction) {
    long[] size = count(source); // {bytes, documents}
    long total = size[0], docs = size[1];
    long target = total - Math.round(evalFraction * total);
    Cut cut = target >= total ? new Cut(total, false) : findCut(source, target, total);
    if (cut.pos < 1 || (evalFraction > 0 && cut.pos == total)) {
      throw new HNetException(
          source.name() + ": " + total + " bytes is too small to hold out " + evalFraction);
    }
    return new Corpus(source, total, docs, cut.pos, cut.inDocument);
  }

  /** Where the eval part starts, and whether that is inside a document (which then gets a BOS). */
  private record Cut(long pos, boolean inDocument) {}

  /** First document start at or after {@code t}, or a line boundary in the last document. */
  private static Cut findCut(DocSource source, long t, long total) {
    try (PackedReader r = new PackedReader(source)) {
      while (true) {
        long s = r.nextDocumentStart();
        if (s < 0) return new Cut(total, false);
        if (s >= t) return new Cut(s, false);
        r.skip(1);
        r.skipInDocument(t - r.position());
        if (r.position() < t) continue;
        long afterNewline = r.findInDocument((byte) '\n');
        long next = r.nextDocumentStart();
        if (next >= 0) return new Cut(next, false);
        return new Cut(afterNewline >= 0 && afterNewline < total ? afterNewline : t, true);
      }
    }
  }

  /** Size of the train part, BOS bytes included. */
  public long trainBytes() {
    return cut;
  }

  /** Size of the eval part, BOS bytes included (one extra BOS if a document was cut). */
  public long evalBytes() {
    return cut == totalBytes ? 0 : totalBytes - cut + (evalBos ? 1 : 0);
  }

  /** Documents in the whole source (a document cut by the split counts once). */
  public long documents() {
    return documents;
  }

  /** An endless stream of shuffled train batches, blocks of {@link #DEFAULT_BLOCK_ROWS} rows. */
  public BatchStream train(int B, int L, long seed) {
    return train(B, L, seed, DEFAULT_BLOCK_ROWS);
  }

  /** As {@link #train(int, int, long)} with a shuffle block of {@code blockRows} rows. */
  public BatchStream train(int B, int L, long seed, int blockRows) {
    if (L < 1 || blockRows < 1) {
      throw new HNetException(
          "row length and block size must be positive: L=" + L + ", K=" + blockRows);
    }
    return train(B, L, new DataState(seed, 0, 0, L, blockRows, cut));
  }

  /** Continues exactly where the stream that produced {@code resumeFrom} was. */
  public BatchStream train(int B, int L, DataState resumeFrom) {
    if (resumeFrom.seqLen() != L) {
      throw new HNetException(
          "data state is for rows of " + resumeFrom.seqLen() + " bytes, asked for " + L);
    }
    TrainStream s = new TrainStream(new PackedReader(source), cut, B, resumeFrom);
    open.add(s);
    s.onClose(() -> open.remove(s));
    return s;
  }

  /**
   * One pass over the eval part in order, as batches of up to B rows of L bytes; empty when nothing
   * is held out. Rows do not overlap, so every eval byte but the first of each row is a target
   * exactly once. The last batch may have fewer rows, and its last row is padded to L with token 0,
   * target -1, in a segment of its own; {@link Batch#predicted()} counts real targets.
   */
  public Iterable<Batch> eval(int B, int L) {
    if (B < 1 || L < 1 || (long) B * L > Integer.MAX_VALUE - 16) {
      throw new HNetException("eval batch of " + B + " × " + L + " is out of range");
    }
    return () -> new EvalIterator(B, L);
  }

  private final class EvalIterator implements Iterator<Batch>, AutoCloseable {
    private final int rowsMax;
    private final int seqLen;
    private final byte[] buf;
    private PackedReader reader;
    private long remaining = evalBytes();
    private boolean leadingBos = evalBos;

    EvalIterator(int rowsMax, int seqLen) {
      this.rowsMax = rowsMax;
      this.seqLen = seqLen;
      this.buf = new byte[rowsMax * seqLen];
    }

    @Override
    public boolean hasNext() {
      return remaining > 0;
    }

    @Override
    public Batch next() {
      if (remaining <= 0) throw new NoSuchElementException();
      if (reader == null) {
        reader = new PackedReader(source);
        open.add(this);
        if (reader.skip(cut) != cut) throw changed();
      }
      int rows = (int) Math.min(rowsMax, (remaining + seqLen - 1) / seqLen);
      int valid = (int) Math.min((long) rows * seqLen, remaining);
      int off = 0;
      if (leadingBos) {
        buf[off++] = PackedReader.BOS;
        leadingBos = false;
      }
      if (off < valid && reader.read(buf, off, valid - off) != valid - off) throw changed();
      remaining -= valid;
      if (remaining == 0) close();
      return Batch.of(buf, rows, seqLen, valid);
    }

    @Override
    public void close() {
      if (reader != null) reader.close();
      open.remove(this);
    }
  }

  private static HNetException changed() {
    return new HNetException("corpus ended early: the files changed since the corpus was opened");
  }

  /**
   * Runs {@code action} on close (after the open streams are closed), e.g. to delete a temp file.
   */
  Corpus onClose(Runnable action) {
    this.onClose = action;
    return this;
  }

  /** Closes every stream and eval pass still open on this corpus. */
  @Override
  public void close() {
    for (AutoCloseable c : open) {
      try {
        c.close();
      } catch (Exception e) {
        // Readers only; closing them cannot lose data.
      }
    }
    open.clear();
    if (onClose != null) onClose.run();
    onClose = null;
  }

  @Override
  public String toString() {
    return String.format(
        Locale.ROOT,
        "%s: %d documents, %d train bytes, %d eval bytes%s",
        source.name(),
        documents,
        trainBytes(),
        evalBytes(),
        evalBos ? " (the last document is cut in two)" : "");
  }
}
