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
 *
 * <h2>Training rows</h2>
 *
 * {@link Sampling#RANDOM} (the default) draws every row as a window at a uniformly random position
 * of the whole train part, as the official recipe does: a corpus sorted by date, source or file
 * name still gives every batch rows from all of it. It needs random access to the documents: file
 * sizes for files and directories, an index of line offsets and decoded lengths for JSONL (one pass
 * over the file, cached if asked). A gzip file can only be read from its start: there the rows are
 * shuffled within blocks of {@link #SHUFFLE_BUFFER_BYTES} read in order (a large shuffle buffer),
 * and {@link #randomAccess()} is false so that the caller can warn. {@link Sampling#SEQUENTIAL}
 * reads the part in order, shuffled within blocks of {@link #DEFAULT_BLOCK_ROWS} rows.
 */
public final class Corpus implements AutoCloseable {
  /** Default shuffle block: rows are shuffled within groups of this many. */
  public static final int DEFAULT_BLOCK_ROWS = 1024;

  /** The shuffle buffer of random sampling on a corpus without random access (gzip). */
  public static final int SHUFFLE_BUFFER_BYTES = 64 << 20;

  private final DocSource source;
  private final PackedIndex index;
  private final long totalBytes;
  private final long documents;
  private final long cut;
  private final boolean evalBos;
  private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();
  private Runnable onClose;

  private Corpus(
      DocSource source,
      PackedIndex index,
      long totalBytes,
      long documents,
      long cut,
      boolean evalBos) {
    this.source = source;
    this.index = index;
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
    return open(path, evalFraction, jsonField, null);
  }

  /**
   * As {@link #open(Path, double, String)}, keeping an index that is costly to build (JSONL: one
   * pass over the file) in {@code indexCache} for the next opening; null keeps none.
   */
  public static Corpus open(Path path, double evalFraction, String jsonField, Path indexCache) {
    if (!(evalFraction >= 0 && evalFraction < 1)) {
      throw new HNetException("eval fraction must be in [0, 1): " + evalFraction);
    }
    DocSource source = source(path, jsonField);
    DocIndex docs;
    try {
      docs = source.index(indexCache);
    } catch (IOException e) {
      throw new HNetException(path + ": cannot index: " + e.getMessage(), e);
    }
    if (docs == null) return split(source, evalFraction);
    if (docs.documents() == 0) throw new HNetException(source.name() + ": no documents");
    PackedIndex index = new PackedIndex(docs);
    try {
      return split(source, index, evalFraction);
    } catch (RuntimeException e) {
      index.close();
      throw e;
    }
  }

  /**
   * Opens {@code path} for evaluation as a whole: everything is in the eval part (what {@code hnet
   * eval} scores), nothing in the train part.
   */
  public static Corpus openWhole(Path path, String jsonField) {
    return openWhole(path, jsonField, null);
  }

  /**
   * As {@link #openWhole(Path, String)} with every document replaced by {@code transform(document)}
   * (null: unchanged), e.g. a perturbation for a robustness evaluation.
   */
  public static Corpus openWhole(
      Path path, String jsonField, java.util.function.UnaryOperator<byte[]> transform) {
    DocSource source =
        transform == null
            ? source(path, jsonField)
            : new MappedSource(source(path, jsonField), transform);
    long[] size = count(source); // {bytes, documents}
    long total = size[0], docs = size[1];
    return new Corpus(source, null, total, docs, 0, false);
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

  /** Bytes of each file's start that {@link #requireText} looks at. */
  static final int TEXT_SAMPLE = 8192;

  /**
   * Refuses data that is clearly not a text corpus: a file whose first {@value #TEXT_SAMPLE} bytes
   * hold a NUL byte or are more than 30% malformed UTF-8 (a model, an archive, an image; a run or
   * model directory given as data). JSONL is text by construction and not looked at. The model is
   * byte-level and can learn any bytes: callers let a user skip this check.
   *
   * @throws HNetException naming the first such file
   */
  public static void requireText(Path path) {
    String name = path.getFileName() == null ? "" : path.getFileName().toString();
    name = name.toLowerCase(Locale.ROOT);
    if (!Files.isDirectory(path) && (name.endsWith(".jsonl") || name.endsWith(".jsonl.gz"))) return;
    DocSource source = source(path, null);
    if (!(source instanceof FileSource fs)) return;
    for (String label : fs.labels()) {
      Path f = Path.of(label);
      byte[] head;
      try (java.io.InputStream in = FileSource.openStream(f)) {
        head = in.readNBytes(TEXT_SAMPLE);
      } catch (IOException e) {
        throw new HNetException(f + ": cannot read: " + e.getMessage(), e);
      }
      String why = notText(head);
      if (why != null) {
        throw new HNetException(
            f
                + ": not text ("
                + why
                + ")"
                + (Files.isDirectory(path) ? " in the data directory " + path : "")
                + "; hnet reads text corpora (is it a model or run directory?); --any-bytes reads it"
                + " anyway");
      }
    }
  }

  /** Why these bytes are not text, or null if they may be. */
  static String notText(byte[] b) {
    int malformed = 0;
    for (int i = 0; i < b.length; ) {
      if (b[i] == 0) return "a NUL byte at " + i;
      int len = org.hnet.analysis.Utf8.length(b, i);
      if (len == 1 && (b[i] & 0x80) != 0 && i + 4 <= b.length) malformed++; // not a cut at the end
      i += len;
    }
    return malformed * 10 > b.length * 3
        ? String.format(
            Locale.ROOT,
            "%.0f%% of its first %d bytes are not UTF-8",
            100.0 * malformed / b.length,
            b.length)
        : null;
  }

  private static DocSource source(Path path, String jsonField) {
    if (!Files.exists(path)) throw new HNetException(path + ": no such file or directory");
    if (!Files.isDirectory(path) && !Files.isRegularFile(path)) {
      throw new HNetException(
          path + ": is not a regular file (a pipe or a device?); give a file or a directory");
    }
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
    checkCut(source, cut, total, evalFraction);
    return new Corpus(source, null, total, docs, cut.pos, cut.inDocument);
  }

  /** The same split as {@link #split(DocSource, double)}, found through the index. */
  private static Corpus split(DocSource source, PackedIndex index, double evalFraction) {
    long total = index.total();
    long target = total - Math.round(evalFraction * total);
    Cut cut;
    if (target >= total) {
      cut = new Cut(total, false);
    } else {
      long s = index.documentStartAtOrAfter(target);
      if (s >= 0) {
        cut = new Cut(s, false);
      } else {
        long afterNewline = index.findInDocument(target, (byte) '\n');
        cut = new Cut(afterNewline >= 0 && afterNewline < total ? afterNewline : target, true);
      }
    }
    checkCut(source, cut, total, evalFraction);
    return new Corpus(source, index, total, index.documents(), cut.pos, cut.inDocument);
  }

  private static void checkCut(DocSource source, Cut cut, long total, double evalFraction) {
    if (cut.pos < 1 || (evalFraction > 0 && cut.pos == total)) {
      throw new HNetException(
          source.name() + ": " + total + " bytes is too small to hold out " + evalFraction);
    }
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

  /**
   * Whether rows can be drawn at random positions; when false, {@link Sampling#RANDOM} falls back
   * to a shuffle buffer read in order and {@link #whyNoRandomAccess()} says why.
   */
  public boolean randomAccess() {
    return index != null;
  }

  /** Why {@link #randomAccess()} is false (naming the file), or null. */
  public String whyNoRandomAccess() {
    return index != null ? null : source.whyNoIndex();
  }

  /** An endless stream of train batches of i.i.d. random windows ({@link Sampling#RANDOM}). */
  public BatchStream train(int B, int L, long seed) {
    return train(B, L, seed, Sampling.RANDOM);
  }

  /** An endless stream of train batches drawn as {@code sampling} says. */
  public BatchStream train(int B, int L, long seed, Sampling sampling) {
    if (L < 1) throw new HNetException("row length must be positive: L=" + L);
    if (sampling == Sampling.SEQUENTIAL) return train(B, L, seed, DEFAULT_BLOCK_ROWS);
    if (index == null)
      return train(B, L, seed, Math.max(DEFAULT_BLOCK_ROWS, SHUFFLE_BUFFER_BYTES / L));
    return train(B, L, DataState.random(seed, 0, L, cut));
  }

  /**
   * Rows read in order, shuffled within blocks of {@code blockRows} rows ({@link
   * Sampling#SEQUENTIAL}).
   */
  public BatchStream train(int B, int L, long seed, int blockRows) {
    if (L < 1 || blockRows < 1) {
      throw new HNetException(
          "row length and block size must be positive: L=" + L + ", K=" + blockRows);
    }
    return train(B, L, new DataState(Sampling.SEQUENTIAL, seed, 0, 0, L, blockRows, cut));
  }

  /** Continues exactly where the stream that produced {@code resumeFrom} was. */
  public BatchStream train(int B, int L, DataState resumeFrom) {
    if (resumeFrom.seqLen() != L) {
      throw new HNetException(
          "data state is for rows of " + resumeFrom.seqLen() + " bytes, asked for " + L);
    }
    if (resumeFrom.sampling() == Sampling.RANDOM) {
      if (index == null) {
        throw new HNetException(
            "the run draws rows at random positions, which " + source.whyNoIndex());
      }
      WindowStream w = new WindowStream(index, cut, B, resumeFrom);
      open.add(w);
      w.onClose(() -> open.remove(w));
      return w;
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

  /** The file or directory the corpus reads, as given. */
  public String name() {
    return source.name();
  }

  /**
   * The packed bytes of the train part (documents each after a BOS), or of the eval part ({@code
   * train} false; a BOS first when it starts inside a document), read into memory; refused past
   * {@code limit} bytes with {@code why} in the message.
   */
  byte[] readPart(boolean train, long limit, String why) {
    long n = train ? cut : evalBytes();
    if (n > limit) {
      throw new HNetException(
          source.name()
              + ": the "
              + (train ? "train" : "eval")
              + " part holds "
              + n
              + " bytes, more than the "
              + limit
              + " "
              + why);
    }
    byte[] out = new byte[(int) n];
    int off = 0;
    if (!train && evalBos && n > 0) out[off++] = PackedReader.BOS;
    try (PackedReader reader = new PackedReader(source)) {
      if (!train && reader.skip(cut) != cut) throw changed();
      if (off < n && reader.read(out, off, (int) n - off) != n - off) throw changed();
    }
    return out;
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
    if (index != null) index.close();
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
