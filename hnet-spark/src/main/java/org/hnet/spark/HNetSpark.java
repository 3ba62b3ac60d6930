package org.hnet.spark;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * H-Net over a DataFrame: {@link #score} adds per-document columns computed by one model per
 * executor JVM.
 *
 * <pre>{@code
 * Dataset<Row> scored = HNetSpark.score(docs, "/models/hnet", ScoreOptions.defaults());
 * scored.filter("hnet_error IS NULL AND hnet_bpb < 2.5").write().parquet("/out/kept");
 * }</pre>
 */
public final class HNetSpark {
  private HNetSpark() {}

  /** Bits per byte of the document (DOUBLE; null for a bad row). */
  public static final String BPB = "hnet_bpb";

  /** UTF-8 bytes of the document (LONG; null for a bad row). */
  public static final String BYTES = "hnet_bytes";

  /** Chunks per stage, outer stage first (ARRAY&lt;LONG&gt;; null for a bad row). */
  public static final String CHUNKS = "hnet_chunks";

  /**
   * With {@code boundaries}: per stage, the byte offsets where chunks start
   * (ARRAY&lt;ARRAY&lt;INT&gt;&gt;).
   */
  public static final String BOUNDARIES = "hnet_boundaries";

  /** With {@code chunkTexts}: the stage-1 chunks (ARRAY&lt;STRING&gt;). */
  public static final String CHUNK_TEXTS = "hnet_chunks_text";

  /**
   * Why a row was not scored (STRING: "null", "empty", "not UTF-8", "over N bytes (M)"); null for a
   * scored row. Bad rows never fail the job.
   */
  public static final String ERROR = "hnet_error";

  /** Rows of a partition scored together (their documents packed into passes, shortest first). */
  static final int SLICE_ROWS = 256;

  /** And at most this many bytes of documents per slice. */
  static final long SLICE_BYTES = 8L << 20;

  /**
   * {@code df} with the columns above added, computed in {@code mapPartitions}: the model at {@code
   * modelPath} (a model directory or a training run, readable from every executor) is loaded once
   * per executor JVM and shared by its tasks.
   *
   * @throws IllegalArgumentException when the text column is missing or neither string nor binary
   */
  public static Dataset<Row> score(Dataset<Row> df, String modelPath, ScoreOptions o) {
    StructType in = df.schema();
    String[] names = in.fieldNames();
    int col = -1;
    for (int i = 0; i < names.length; i++) if (names[i].equals(o.textColumn())) col = i;
    if (col < 0)
      throw new IllegalArgumentException(
          "no column '" + o.textColumn() + "' (columns: " + String.join(", ", names) + ")");
    DataType t = in.fields()[col].dataType();
    if (!t.equals(DataTypes.StringType) && !t.equals(DataTypes.BinaryType))
      throw new IllegalArgumentException(
          "column '" + o.textColumn() + "' is " + t.simpleString() + ", not string or binary");
    StructType out = outputSchema(in, o);
    return df.mapPartitions(new Partition(modelPath, o, col), Encoders.row(out));
  }

  static StructType outputSchema(StructType in, ScoreOptions o) {
    List<StructField> f = new ArrayList<>(List.of(in.fields()));
    f.add(DataTypes.createStructField(BPB, DataTypes.DoubleType, true));
    f.add(DataTypes.createStructField(BYTES, DataTypes.LongType, true));
    f.add(
        DataTypes.createStructField(
            CHUNKS, DataTypes.createArrayType(DataTypes.LongType, false), true));
    if (o.boundaries())
      f.add(
          DataTypes.createStructField(
              BOUNDARIES,
              DataTypes.createArrayType(
                  DataTypes.createArrayType(DataTypes.IntegerType, false), false),
              true));
    if (o.chunkTexts())
      f.add(
          DataTypes.createStructField(
              CHUNK_TEXTS, DataTypes.createArrayType(DataTypes.StringType, false), true));
    f.add(DataTypes.createStructField(ERROR, DataTypes.StringType, true));
    return DataTypes.createStructType(f);
  }

  /** One partition: slices of rows scored together, emitted in their order. */
  static final class Partition implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final String modelPath;
    private final ScoreOptions o;
    private final int col;

    Partition(String modelPath, ScoreOptions o, int col) {
      this.modelPath = modelPath;
      this.o = o;
      this.col = col;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      DocumentScorer scorer =
          new DocumentScorer(Models.get(modelPath, o.weights(), o.threads()), o);
      return new Iterator<>() {
        private final List<Row> done = new ArrayList<>();
        private int next;

        @Override
        public boolean hasNext() {
          if (next < done.size()) return true;
          done.clear();
          next = 0;
          List<Row> slice = new ArrayList<>();
          List<byte[]> docs = new ArrayList<>();
          long bytes = 0;
          while (rows.hasNext() && slice.size() < SLICE_ROWS && bytes < SLICE_BYTES) {
            Row r = rows.next();
            byte[] d = text(r);
            slice.add(r);
            docs.add(d);
            bytes += d == null ? 0 : d.length;
          }
          if (slice.isEmpty()) return false;
          DocumentScorer.Result[] res = scorer.score(docs);
          for (int i = 0; i < slice.size(); i++) done.add(row(slice.get(i), docs.get(i), res[i]));
          return true;
        }

        @Override
        public Row next() {
          if (!hasNext()) throw new NoSuchElementException();
          return done.get(next++);
        }
      };
    }

    private byte[] text(Row r) {
      if (r.isNullAt(col)) return null;
      Object v = r.get(col);
      return v instanceof byte[] b ? b : ((String) v).getBytes(StandardCharsets.UTF_8);
    }

    // arrays go to Spark's row encoder as Java arrays (it takes Scala sequences or arrays)
    private Row row(Row r, byte[] doc, DocumentScorer.Result res) {
      List<Object> v = new ArrayList<>(r.size() + 5);
      for (int i = 0; i < r.size(); i++) v.add(r.get(i));
      boolean ok = res.error() == null;
      v.add(ok ? res.bpb() : null);
      v.add(ok ? res.bytes() : null);
      v.add(ok ? boxed(res.chunks()) : null);
      if (o.boundaries()) {
        Object[] b = null;
        if (ok) {
          b = new Object[res.boundaries().length];
          for (int s = 0; s < b.length; s++) b[s] = boxed(res.boundaries()[s]);
        }
        v.add(b);
      }
      if (o.chunkTexts())
        v.add(
            ok && res.boundaries().length > 0
                ? DocumentScorer.chunkTexts(doc, res.boundaries()[0])
                : null);
      v.add(res.error());
      return RowFactory.create(v.toArray());
    }

    private static Long[] boxed(long[] a) {
      Long[] l = new Long[a.length];
      for (int i = 0; i < a.length; i++) l[i] = a[i];
      return l;
    }

    private static Integer[] boxed(int[] a) {
      Integer[] l = new Integer[a.length];
      for (int i = 0; i < a.length; i++) l[i] = a[i];
      return l;
    }
  }
}
