package org.hnet.train.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.hnet.HNetException;

/**
 * JSON Lines: each non-blank line is a JSON object whose string field {@code field} is one
 * document, encoded as UTF-8; other fields are ignored. Lines are read one at a time, so only the
 * current line is ever in memory. Errors name the file and the 1-based line number.
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

  private final class Reader extends InMemoryDocReader {
    private final InputStream in;
    private byte[] line = new byte[1 << 12];
    private int lineLen;
    private long lineNo;
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
          setDocument(parse());
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
        if (end < bufLen) {
          bufPos = end + 1;
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

    private byte[] parse() throws IOException {
      String text = null;
      try (JsonParser p = JSON.createParser(line, 0, lineLen)) {
        if (p.nextToken() != JsonToken.START_OBJECT) throw error("not a JSON object");
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
        if (t != JsonToken.END_OBJECT) throw error("bad JSON: unexpected " + t);
        if (p.nextToken() != null) throw error("bad JSON: more after the object");
      } catch (JsonProcessingException e) {
        String msg = e.getOriginalMessage();
        int nl = msg.indexOf('\n');
        throw error("bad JSON: " + (nl >= 0 ? msg.substring(0, nl) : msg));
      }
      if (text == null) throw error("no string field '" + field + "'");
      return text.getBytes(StandardCharsets.UTF_8);
    }

    private HNetException error(String what) {
      return new HNetException(path + ":" + lineNo + ": " + what);
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
}
