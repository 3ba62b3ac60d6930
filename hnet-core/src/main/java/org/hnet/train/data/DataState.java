package org.hnet.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.hnet.HNetException;

/**
 * Where a training stream stands: the next row to emit is row {@code row} (0-based, in emission
 * order) of epoch {@code epoch}. The other fields pin down the row layout and are checked on
 * resume, so a state is never applied to a different corpus, row length or block size.
 *
 * <p>Counting rows rather than batches lets a run resume with a different batch size B.
 *
 * @param seed shuffling seed
 * @param epoch completed passes over the train part
 * @param row rows already emitted in this epoch
 * @param seqLen row length L
 * @param blockRows shuffle block size K (rows are shuffled within blocks of K)
 * @param trainBytes size of the train part, BOS bytes included (a cheap corpus fingerprint)
 */
public record DataState(
    long seed, long epoch, long row, int seqLen, int blockRows, long trainBytes) {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] FIELDS = {
    "seed", "epoch", "row", "seqLen", "blockRows", "trainBytes"
  };

  public DataState {
    if (epoch < 0 || row < 0 || seqLen < 1 || blockRows < 1 || trainBytes < 1) {
      throw new HNetException(
          "data state out of range: epoch="
              + epoch
              + " row="
              + row
              + " seqLen="
              + seqLen
              + " blockRows="
              + blockRows
              + " trainBytes="
              + trainBytes);
    }
  }

  /** One-line JSON object, e.g. for a checkpoint's metadata. */
  public String toJson() {
    ObjectNode o = JSON.createObjectNode();
    long[] v = toLongs();
    for (int i = 0; i < FIELDS.length; i++) o.put(FIELDS[i], v[i]);
    return o.toString();
  }

  public static DataState fromJson(String json) {
    JsonNode o;
    try {
      o = JSON.readTree(json);
    } catch (Exception e) {
      throw new HNetException(
          "data state: bad JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (o == null || !o.isObject()) throw new HNetException("data state: not a JSON object");
    long[] v = new long[FIELDS.length];
    for (int i = 0; i < FIELDS.length; i++) {
      JsonNode f = o.get(FIELDS[i]);
      if (f == null || !f.isIntegralNumber() || !f.canConvertToLong()) {
        throw new HNetException("data state: no integer field '" + FIELDS[i] + "'");
      }
      v[i] = f.longValue();
    }
    return fromLongs(v);
  }

  /** {seed, epoch, row, seqLen, blockRows, trainBytes}. */
  public long[] toLongs() {
    return new long[] {seed, epoch, row, seqLen, blockRows, trainBytes};
  }

  public static DataState fromLongs(long[] v) {
    if (v.length != FIELDS.length) {
      throw new HNetException("data state: expected " + FIELDS.length + " values, got " + v.length);
    }
    if (v[3] > Integer.MAX_VALUE || v[4] > Integer.MAX_VALUE) {
      throw new HNetException("data state: seqLen or blockRows too large");
    }
    return new DataState(v[0], v[1], v[2], (int) v[3], (int) v[4], v[5]);
  }
}
