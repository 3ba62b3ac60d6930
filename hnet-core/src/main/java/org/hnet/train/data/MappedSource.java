package org.hnet.train.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.function.UnaryOperator;

/**
 * A source whose documents are those of another, each transformed as a whole (e.g. perturbed for a
 * robustness evaluation). One document at a time is held in memory.
 */
final class MappedSource implements DocSource {
  private final DocSource inner;
  private final UnaryOperator<byte[]> f;

  MappedSource(DocSource inner, UnaryOperator<byte[]> f) {
    this.inner = inner;
    this.f = f;
  }

  @Override
  public String name() {
    return inner.name();
  }

  @Override
  public DocReader open() throws IOException {
    DocReader r = inner.open();
    return new InMemoryDocReader() {
      @Override
      public boolean next() throws IOException {
        if (!r.next()) return false;
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        for (int n; (n = r.read(buf, 0, buf.length)) > 0; ) all.write(buf, 0, n);
        setDocument(f.apply(all.toByteArray()));
        return true;
      }

      @Override
      public String where() {
        return r.where();
      }

      @Override
      public void close() throws IOException {
        r.close();
      }
    };
  }
}
