package org.hnet.train.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.hnet.HNetException;

/**
 * JSON Lines: each non-blank line is a JSON object whose string field {@code field} is one
 * document, encoded as UTF-8; other fields are ignored. Lines are read one at a time, so only the
 * current line is ever in memory. Errors name the file and the 1-based line number.
 *
 * <p>Random access ({@link #index}) needs each document's decoded length, so building the index
 * reads the whole file once; it can be cached in a file, which is used again only while the JSONL
 * file has the same size and modification time.
 */
final class JsonlSource implements DocSource {
  private static final JsonFactory JSON = new JsonFactory();

  private final Path path;
  private final String field;

  JsonlSource(Path path, String field) {
    this.path = path;
    this.field = field;
  }

  @Override
  public String name() {
    return path.toString();
  }

  @Override
  public DocReader open() throws IOException {
    return new Reader(FileSource.openStream(path));
  }

  /**
   * Random access to the documents, or null for a gzipped file. Reads the cache if it matches the
   * file, else reads the file once and (if {@code cache} is not null) writes the cache.
   */
  @Override
  public DocIndex index(Path cache) throws IOException {
    if (FileSource.isGzip(path)) return null;
    Index ix = cache == null ? null : Index.load(cache, path, field);
    if (ix == null) {
      ix = Index.build(this);
      if (cache != null) ix.save(cache, path, field);
    }
    return ix;
  }

  @Override
  public String whyNoIndex() {
    return FileSource.isGzip(path)
        ? path + " is gzip-compressed (it can only be read from its start)"
        : DocSource.super.whyNoIndex();
  }

  /** The document of a JSONL line: the UTF-8 bytes of its string field. */
  static byte[] parse(byte[] line, int len, String field, String where) throws IOException {
    String text = null;
    try (JsonParser p = JSON.createParser(line, 0, len)) {
      if (p.nextToken() != JsonToken.START_OBJECT)
        throw new HNetException(where + ": not a JSON object");
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if (text == null && v == JsonToken.VALUE_STRING && name.equals(field)) {
          text = p.getText();
        } else {
          p.skipChildren();
        }
      }
      if (t != JsonToken.END_OBJECT) throw new HNetException(where + ": bad JSON: unexpected " + t);
      if (p.nextToken() != null)
        throw new HNetException(where + ": bad JSON: more after the object");
    } catch (JsonProcessingException e) {
      String msg = e.getOriginalMessage();
      int nl = msg.indexOf('\n');
      throw new HNetException(where + ": bad JSON: " + (nl >= 0 ? msg.substring(0, nl) : msg));
    }
    if (text == null) throw new HNetException(where + ": no string field '" + field + "'");
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private final class Reader extends InMemoryDocReader {
    private final InputStream in;
    private byte[] line = new byte[1 << 12];
    private int lineLen;
    private long lineNo;

    /** File offset of the current line's first byte, and of the next unread byte. */
    private long lineStart;

    private long consumed;
    private final byte[] buf = new byte[1 << 16];
    private int bufPos;
    private int bufLen;
    private boolean eof;

    Reader(InputStream in) {
      this.in = in;
    }

    @Override
    public boolean next() throws IOException {
      doc = null;
      while (readLine()) {
        if (!blank()) {
          setDocument(parse(line, lineLen, field, where()));
          return true;
        }
      }
      return false;
    }

    /** Reads the next line (without its '\n' or "\r\n") into {@code line}; false at end of file. */
    private boolean readLine() throws IOException {
      if (eof) return false;
      lineLen = 0;
      lineNo++;
      lineStart = consumed;
      while (true) {
        if (bufPos == bufLen) {
          bufLen = in.read(buf, 0, buf.length);
          bufPos = 0;
          if (bufLen < 0) {
            bufLen = 0;
            eof = true;
            return lineLen > 0;
          }
          continue;
        }
        int end = bufPos;
        while (end < bufLen && buf[end] != '\n') end++;
        append(end);
        consumed += end - bufPos;
        if (end < bufLen) {
          bufPos = end + 1;
          consumed++;
          break;
        }
        bufPos = end;
      }
      if (lineLen > 0 && line[lineLen - 1] == '\r') lineLen--;
      return true;
    }

    private void append(int end) {
      int n = end - bufPos;
      if (lineLen + n > line.length) {
        line = Arrays.copyOf(line, Math.max(line.length * 2, lineLen + n));
      }
      System.arraycopy(buf, bufPos, line, lineLen, n);
      lineLen += n;
    }

    private boolean blank() {
      for (int i = 0; i < lineLen; i++) {
        byte c = line[i];
        if (c != ' ' && c != '\t' && c != '\r') return false;
      }
      return true;
    }

    @Override
    public String where() {
      return path + ":" + lineNo;
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }

  /**
   * Per document: the file offset and length of its line (without the line break) and the length of
   * its decoded text. Reading a document reads and parses its line again; the last few are kept.
   */
  private static final class Index implements DocIndex {
    private static final long MAGIC = 0x686e65746a736c31L; // "hnetjsl1"
    private static final int KEEP = 8;

    private final Path path;
    private final String field;
    private final long[] lineStart;
    private final int[] lineLen;
    private final int[] docLen;
    private FileChannel channel;
    private final Map<Integer, byte[]> decoded =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<Integer, byte[]> e) {
            return size() > KEEP;
          }
        };

    private Index(Path path, String field, long[] lineStart, int[] lineLen, int[] docLen) {
      this.path = path;
      this.field = field;
      this.lineStart = lineStart;
      this.lineLen = lineLen;
      this.docLen = docLen;
    }

    /** One pass over the file, parsing every line. */
    static Index build(JsonlSource src) throws IOException {
      long[] starts = new long[1024];
      int[] lines = new int[1024], docs = new int[1024];
      int n = 0;
      try (Reader r = src.new Reader(FileSource.openStream(src.path))) {
        while (r.next()) {
          if (n == starts.length) {
            starts = Arrays.copyOf(starts, 2 * n);
            lines = Arrays.copyOf(lines, 2 * n);
            docs = Arrays.copyOf(docs, 2 * n);
          }
          starts[n] = r.lineStart;
          lines[n] = r.lineLen;
          docs[n] = r.doc.length;
          n++;
        }
      }
      return new Index(
          src.path,
          src.field,
          Arrays.copyOf(starts, n),
          Arrays.copyOf(lines, n),
          Arrays.copyOf(docs, n));
    }

    /** The cached index if it exists and was made from this file as it is now, else null. */
    static Index load(Path cache, Path path, String field) {
      if (!Files.isRegularFile(cache)) return null;
      try (DataInputStream in =
          new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(cache)))) {
        if (in.readLong() != MAGIC || !in.readUTF().equals(field)) return null;
        long size = in.readLong(), mtime = in.readLong();
        if (size != Files.size(path) || mtime != Files.getLastModifiedTime(path).toMillis())
          return null;
        int n = in.readInt();
        if (n < 0 || (long) n * 16 > Files.size(cache)) return null;
        long[] starts = new long[n];
        int[] lines = new int[n], docs = new int[n];
        long prevEnd = 0;
        for (int i = 0; i < n; i++) {
          starts[i] = in.readLong();
          lines[i] = in.readInt();
          docs[i] = in.readInt();
          // lines in order, inside the file; decoding never lengthens a line (escapes shrink)
          if (starts[i] < prevEnd
              || lines[i] < 0
              || docs[i] < 0
              || starts[i] + lines[i] > size
              || docs[i] > lines[i]) {
            return null;
          }
          prevEnd = starts[i] + lines[i];
        }
        return new Index(path, field, starts, lines, docs);
      } catch (IOException e) {
        return null; // unreadable or truncated: build it again
      }
    }

    /** Writes the index to {@code cache}, whole or not at all. */
    void save(Path cache, Path source, String field) throws IOException {
      long size = Files.size(source), mtime = Files.getLastModifiedTime(source).toMillis();
      org.hnet.io.AtomicFile.write(
          cache,
          (java.io.OutputStream os) -> {
            DataOutputStream out = new DataOutputStream(os);
            out.writeLong(MAGIC);
            out.writeUTF(field);
            out.writeLong(size);
            out.writeLong(mtime);
            out.writeInt(lineStart.length);
            for (int i = 0; i < lineStart.length; i++) {
              out.writeLong(lineStart[i]);
              out.writeInt(lineLen[i]);
              out.writeInt(docLen[i]);
            }
            out.flush();
          });
    }

    @Override
    public int documents() {
      return docLen.length;
    }

    @Override
    public long length(int d) {
      return docLen[d];
    }

    @Override
    public void read(int d, long offset, byte[] b, int off, int len) throws IOException {
      byte[] doc = decoded.get(d);
      if (doc == null) {
        if (channel == null) channel = FileChannel.open(path, StandardOpenOption.READ);
        byte[] line = new byte[lineLen[d]];
        ByteBuffer buf = ByteBuffer.wrap(line);
        long pos = lineStart[d];
        while (buf.hasRemaining()) {
          int n = channel.read(buf, pos);
          if (n < 0) throw changed(d);
          pos += n;
        }
        doc = parse(line, line.length, field, where(d));
        if (doc.length != docLen[d]) throw changed(d);
        decoded.put(d, doc);
      }
      System.arraycopy(doc, (int) offset, b, off, len);
    }

    private HNetException changed(int d) {
      return new HNetException(where(d) + ": the file changed since the corpus was opened");
    }

    @Override
    public String where(int d) {
      return path + ": the line at byte " + lineStart[d];
    }

    @Override
    public void close() throws IOException {
      if (channel != null) channel.close();
      channel = null;
      decoded.clear();
    }
  }
}
