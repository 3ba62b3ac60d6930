package org.hnet.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.hnet.HNetException;

/**
 * Where a training stream stands, so that a resumed run reads exactly the rows it would have read.
 *
 * <ul>
 *   <li>{@link Sampling#RANDOM}: rows are windows at random positions; {@code row} rows have been
 *       drawn. {@code epoch} and {@code blockRows} are 0.
 *   <li>{@link Sampling#SEQUENTIAL}: the next row is row {@code row} (0-based, in emission order)
 *       of epoch {@code epoch}; rows are shuffled within blocks of {@code blockRows}.
 * </ul>
 *
 * The other fields pin down the row layout and are checked on resume, so a state is never applied
 * to a different corpus, row length or block size. Counting rows rather than batches lets a run
 * resume with a different batch size B.
 *
 * @param sampling how rows are drawn
 * @param seed the seed of the row order
 * @param epoch completed passes over the train part (sequential)
 * @param row rows already emitted (random: in all; sequential: in this epoch)
 * @param seqLen row length L
 * @param blockRows shuffle block size K (sequential: rows are shuffled within blocks of K)
 * @param trainBytes size of the train part, BOS bytes included (a cheap corpus fingerprint)
 */
public record DataState(
    Sampling sampling,
    long seed,
    long epoch,
    long row,
    int seqLen,
    int blockRows,
    long trainBytes) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public DataState {
    boolean random = sampling == Sampling.RANDOM;
    if (sampling == null
        || epoch < 0
        || row < 0
        || seqLen < 1
        || trainBytes < 1
        || (random ? epoch != 0 || blockRows != 0 : blockRows < 1)) {
      throw new HNetException(
          "data state out of range: sampling="
              + sampling
              + " epoch="
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

  /** A random-window stream that has drawn {@code row} rows. */
  public static DataState random(long seed, long row, int seqLen, long trainBytes) {
    return new DataState(Sampling.RANDOM, seed, 0, row, seqLen, 0, trainBytes);
  }

  /** One-line JSON object, e.g. for a checkpoint's metadata. */
  public String toJson() {
    ObjectNode o = JSON.createObjectNode();
    o.put("sampling", sampling.id());
    o.put("seed", seed);
    o.put("epoch", epoch);
    o.put("row", row);
    o.put("seqLen", seqLen);
    o.put("blockRows", blockRows);
    o.put("trainBytes", trainBytes);
    return o.toString();
  }

  /**
   * Reads {@link #toJson}; a state without "sampling" (written before random sampling) is
   * sequential.
   */
  public static DataState fromJson(String json) {
    JsonNode o;
    try {
      o = JSON.readTree(json);
    } catch (Exception e) {
      throw new HNetException(
          "data state: bad JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (o == null || !o.isObject()) throw new HNetException("data state: not a JSON object");
    JsonNode s = o.get("sampling");
    if (s != null && !s.isTextual())
      throw new HNetException("data state: 'sampling' is not a string");
    Sampling sampling = s == null ? Sampling.SEQUENTIAL : Sampling.parse(s.asText());
    long seqLen = integer(o, "seqLen"), blockRows = integer(o, "blockRows");
    if (seqLen > Integer.MAX_VALUE || blockRows > Integer.MAX_VALUE) {
      throw new HNetException("data state: seqLen or blockRows too large");
    }
    return new DataState(
        sampling,
        integer(o, "seed"),
        integer(o, "epoch"),
        integer(o, "row"),
        (int) seqLen,
        (int) blockRows,
        integer(o, "trainBytes"));
  }

  private static long integer(JsonNode o, String name) {
    JsonNode f = o.get(name);
    if (f == null || !f.isIntegralNumber() || !f.canConvertToLong()) {
      throw new HNetException("data state: no integer field '" + name + "'");
    }
    return f.longValue();
  }
}
