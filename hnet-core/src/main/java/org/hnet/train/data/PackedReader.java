package org.hnet.train.data;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.hnet.HNetException;

/**
 * The byte stream of a source: every document preceded by BOS (254), documents back to back. Reads
 * sequentially; going back means reopening the source ({@link #rewind}), so memory stays
 * independent of the corpus size. Read errors become {@link HNetException}s naming the file and the
 * offset inside it.
 */
final class PackedReader implements Closeable {
  static final byte BOS = (byte) 254;

  private static final int AT_BOS = 0;
  private static final int IN_DOC = 1;
  private static final int END = 2;

  private final DocSource source;
  private DocReader docs;
  private long pos;
  private long docOffset;
  private int state;
  private byte[] scratch;

  PackedReader(DocSource source) {
    this.source = source;
    rewind();
  }

  /** Back to position 0 (reopens the source). */
  void rewind() {
    closeDocs();
    try {
      docs = source.open();
    } catch (IOException e) {
      throw new HNetException(source.name() + ": cannot open: " + e.getMessage(), e);
    }
    pos = 0;
    advanceDoc();
  }

  long position() {
    return pos;
  }

  boolean atEnd() {
    return state == END;
  }

  /** Fills {@code len} bytes unless the stream ends first; returns the count, -1 at the end. */
  int read(byte[] b, int off, int len) {
    int done = 0;
    while (done < len && state != END) {
      if (state == AT_BOS) {
        b[off + done++] = BOS;
        pos++;
        state = IN_DOC;
        continue;
      }
      int n = docRead(b, off + done, len - done);
      if (n < 0) {
        advanceDoc();
      } else {
        done += n;
        pos += n;
      }
    }
    return done == 0 && len > 0 ? -1 : done;
  }

  /** Skips {@code n} bytes or up to the end; returns how many were skipped. */
  long skip(long n) {
    long done = 0;
    while (done < n && state != END) {
      if (state == AT_BOS) {
        pos++;
        done++;
        state = IN_DOC;
        continue;
      }
      long k = skipInDocument(n - done);
      if (k == 0) advanceDoc();
      done += k;
    }
    return done;
  }

  /**
   * Skips the rest of the current document (if inside one) and returns the position of the next
   * document's BOS, or -1 at the end of the stream.
   */
  long nextDocumentStart() {
    while (state == IN_DOC) {
      if (skipInDocument(Long.MAX_VALUE) == 0) advanceDoc();
    }
    return state == AT_BOS ? pos : -1;
  }

  /** Skips up to {@code n} content bytes of the current document, never past its end. */
  long skipInDocument(long n) {
    if (state != IN_DOC) return 0;
    long k;
    try {
      k = docs.skip(n);
    } catch (IOException e) {
      throw readError(e);
    }
    pos += k;
    docOffset += k;
    return k;
  }

  /**
   * Reads on through the current document up to and including the first byte {@code c}; returns the
   * position just after it, or -1 if the document ends first. The reader may have read beyond the
   * returned position.
   */
  long findInDocument(byte c) {
    if (scratch == null) scratch = new byte[1 << 16];
    while (state == IN_DOC) {
      int n = docRead(scratch, 0, scratch.length);
      if (n < 0) return -1;
      for (int i = 0; i < n; i++) {
        if (scratch[i] == c) {
          long found = pos + i + 1;
          pos += n;
          return found;
        }
      }
      pos += n;
    }
    return -1;
  }

  private int docRead(byte[] b, int off, int len) {
    try {
      int n = docs.read(b, off, len);
      if (n > 0) docOffset += n;
      return n;
    } catch (IOException e) {
      throw readError(e);
    }
  }

  private void advanceDoc() {
    try {
      state = docs.next() ? AT_BOS : END;
    } catch (IOException e) {
      throw readError(e);
    } catch (UncheckedIOException e) {
      throw readError(e.getCause());
    }
    docOffset = 0;
  }

  private HNetException readError(IOException e) {
    return new HNetException(
        docs.where() + ": read failed at byte " + docOffset + ": " + e.getMessage(), e);
  }

  private void closeDocs() {
    if (docs == null) return;
    try {
      docs.close();
    } catch (IOException e) {
      // Nothing was written; a failed close of a read-only file loses nothing.
    }
    docs = null;
  }

  @Override
  public void close() {
    closeDocs();
    state = END;
  }
}
