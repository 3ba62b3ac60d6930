package org.hnet.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.hnet.HNetModel;
import org.hnet.config.HNetConfig;
import org.hnet.generate.Scorer;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.train.Evaluator;
import org.hnet.train.TrainOptions;
import org.hnet.train.Trainer;
import org.hnet.train.data.Corpus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** hnet-spark in Spark's local mode (2 threads, a task may fail twice) on a small trained model. */
class HNetSparkTest {
  static final String TINY =
      """
      {"arch_layout": ["m1", ["T1"], "m1"], "d_model": [32, 64], "d_intermediate": [0, 128],
       "ssm_cfg": {"d_state": 8, "expand": 2, "chunk_size": 16, "d_conv": 4},
       "attn_cfg": {"num_heads": [2, 2], "rotary_emb_dim": [8, 16], "window_size": [-1, -1]}}
      """;

  @TempDir static Path tmp;
  static Path model;
  static SparkSession spark;

  static final String[] DOCS = {
    "Call me Ishmael. Some years ago, never mind how long precisely, having little money.",
    "It was the best of times, it was the worst of times.",
    "café, naïve, 漢字 and 😀: whole characters.",
    "The whale! The whale! Thar she blows. ".repeat(30), // longer than the small window below
    "x"
  };

  @BeforeAll
  static void setUp() throws Exception {
    Path data = tmp.resolve("corpus.txt");
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 300; i++) sb.append(DOCS[i % 4]).append(" line ").append(i).append(".\n");
    Files.writeString(data, sb);
    HNetConfig cfg = HNetConfig.parse(TINY, "tiny");
    Path run = tmp.resolve("run");
    try (Trainer t =
        Trainer.start(
            run,
            cfg,
            data,
            TrainOptions.builder(cfg).steps(60).batch(2).seqLen(128).evalEvery(1000).build())) {
      t.run(new Trainer.Listener() {}, () -> false);
    }
    model = run.resolve("checkpoint");
    spark =
        SparkSession.builder()
            .master("local[2,3]") // 2 threads; a task may fail twice before the job does
            .appName("hnet-spark-test")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .getOrCreate();
  }

  @AfterAll
  static void tearDown() {
    if (spark != null) spark.stop();
  }

  static Dataset<Row> docs(String... texts) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < texts.length; i++) rows.add(RowFactory.create((long) i, texts[i]));
    StructType schema =
        new StructType().add("id", DataTypes.LongType).add("text", DataTypes.StringType);
    return spark.createDataFrame(rows, schema).repartition(2);
  }

  /** An array column's value as a Java list (Spark returns nested arrays as Scala sequences). */
  @SuppressWarnings("unchecked")
  static <T> List<T> list(Object o) {
    if (o instanceof List<?> l) return new ArrayList<>((List<T>) l);
    return new ArrayList<>(
        scala.jdk.javaapi.CollectionConverters.asJava((scala.collection.Seq<T>) o));
  }

  static Row byId(List<Row> rows, long id) {
    for (Row r : rows) if (r.getLong(0) == id) return r;
    throw new AssertionError("no row " + id);
  }

  @Test
  void sparkScoresEqualWhatEvalAndChunksGiveOnTheSameDocuments() throws Exception {
    ScoreOptions o = ScoreOptions.defaults().withBoundaries(true).withChunkTexts(true);
    List<Row> rows = HNetSpark.score(docs(DOCS), model.toString(), o).collectAsList();
    assertEquals(DOCS.length, rows.size());
    HNetForCausalLM lm = HNetModel.load(model).model();
    for (int i = 0; i < DOCS.length; i++) {
      Row r = byId(rows, i);
      byte[] b = DOCS[i].getBytes(StandardCharsets.UTF_8);
      Scorer.Score s = HNetModel.load(model).score(DOCS[i]); // what hnet chunks shows
      assertNull(r.getAs(HNetSpark.ERROR));
      assertEquals(b.length, (long) r.getAs(HNetSpark.BYTES));
      double bpb = r.getAs(HNetSpark.BPB);
      assertEquals(s.bitsPerByte(), bpb, 1e-9, DOCS[i]);
      // hnet eval on a file holding only this document (one row: BOS + the document)
      Path f = tmp.resolve("doc" + i + ".txt");
      Files.write(f, b);
      try (Corpus c = Corpus.openWhole(f, null)) {
        // the same logits; hnet eval sums the cross-entropy in another order: equal to ~1e-10
        assertEquals(Evaluator.evaluate(lm, c.eval(1, b.length + 1), 0).bpb(), bpb, 1e-8 * bpb);
      }
      // chunk starts: the scorer's boundaries, the first byte always starting one
      List<Object> bounds = list(r.getAs(HNetSpark.BOUNDARIES));
      List<Long> chunks = list(r.getAs(HNetSpark.CHUNKS));
      assertEquals(1, bounds.size());
      List<Integer> want = new ArrayList<>();
      for (int t = 0; t < b.length; t++) if (t == 0 || s.boundaries().get(0)[t]) want.add(t);
      assertEquals(want, list(bounds.get(0)), DOCS[i]);
      assertEquals(want.size(), chunks.get(0));
      List<String> texts = list(r.getAs(HNetSpark.CHUNK_TEXTS));
      assertEquals(
          DOCS[i], String.join("", texts), "chunks are whole characters and cover the text");
    }
  }

  @Test
  void longDocumentsAreScoredInWindowsEveryByteOnce() {
    String doc = DOCS[3];
    ScoreOptions small = ScoreOptions.defaults().withWindow(128, 32).withBoundaries(true);
    Row r = HNetSpark.score(docs(doc), model.toString(), small).collectAsList().get(0);
    Row whole =
        HNetSpark.score(docs(doc), model.toString(), ScoreOptions.defaults())
            .collectAsList()
            .get(0);
    assertEquals((long) doc.length(), (long) r.getAs(HNetSpark.BYTES));
    double a = r.getAs(HNetSpark.BPB), b = whole.getAs(HNetSpark.BPB);
    // 32 bytes of context instead of all of them: close, not equal
    assertTrue(Math.abs(a - b) < 0.25 * b && a != b, a + " vs " + b);
    List<Object> bounds = list(r.getAs(HNetSpark.BOUNDARIES));
    List<Integer> st = list(bounds.get(0));
    for (int k = 1; k < st.size(); k++) assertTrue(st.get(k) > st.get(k - 1));
    assertTrue(st.get(st.size() - 1) < doc.length());
  }

  @Test
  void badRowsAreReportedNotFatal() {
    byte[] notUtf8 = {(byte) 0xC3, (byte) 0x28, 'a'};
    List<Row> rows = new ArrayList<>();
    rows.add(RowFactory.create(0L, "fine text".getBytes(StandardCharsets.UTF_8)));
    rows.add(RowFactory.create(1L, new byte[0]));
    rows.add(RowFactory.create(2L, notUtf8));
    rows.add(RowFactory.create(3L, null));
    rows.add(RowFactory.create(4L, "x".repeat(100).getBytes(StandardCharsets.UTF_8)));
    StructType schema =
        new StructType().add("id", DataTypes.LongType).add("body", DataTypes.BinaryType);
    Dataset<Row> df = spark.createDataFrame(rows, schema);
    ScoreOptions o = ScoreOptions.defaults().withTextColumn("body").withMaxBytes(50);
    List<Row> out = HNetSpark.score(df, model.toString(), o).collectAsList();
    assertNull(byId(out, 0).getAs(HNetSpark.ERROR));
    assertEquals("empty", byId(out, 1).getAs(HNetSpark.ERROR));
    assertEquals("not UTF-8", byId(out, 2).getAs(HNetSpark.ERROR));
    assertEquals("null", byId(out, 3).getAs(HNetSpark.ERROR));
    assertEquals("over 50 bytes (100)", byId(out, 4).getAs(HNetSpark.ERROR));
    assertTrue(byId(out, 4).isNullAt(byId(out, 4).fieldIndex(HNetSpark.BPB)));
  }

  @Test
  void aTaskThatFailsOnItsFirstAttemptIsRetriedToTheSameResult() {
    ScoreOptions o = ScoreOptions.defaults();
    List<Row> clean = HNetSpark.score(docs(DOCS), model.toString(), o).collectAsList();
    int loads = Models.LOADS.get();
    // the first attempt of every task dies after scoring its rows; Spark runs it again
    Dataset<Row> scored = HNetSpark.score(docs(DOCS), model.toString(), o);
    List<Row> retried =
        scored
            .map(
                (MapFunction<Row, Row>)
                    r -> {
                      if (TaskContext.get().attemptNumber() == 0)
                        throw new IllegalStateException("killed on its first attempt");
                      return r;
                    },
                org.apache.spark.sql.Encoders.row(scored.schema()))
            .collectAsList();
    assertEquals(clean.size(), retried.size());
    for (Row r : clean) {
      Row s = byId(retried, r.getLong(0));
      assertEquals((double) r.getAs(HNetSpark.BPB), (double) s.getAs(HNetSpark.BPB), 0.0);
    }
    assertEquals(loads, Models.LOADS.get(), "the retries found the model loaded in this JVM");
  }

  @Test
  void anEmptyInputGivesAnEmptyResultWithTheColumns() {
    Dataset<Row> out = HNetSpark.score(docs(), model.toString(), ScoreOptions.defaults());
    assertEquals(0, out.count());
    assertTrue(List.of(out.columns()).containsAll(List.of(HNetSpark.BPB, HNetSpark.ERROR)));
  }

  @Test
  void theJobReadsTextJsonlAndParquetAndWritesParquet() throws Exception {
    Path in = Files.createDirectories(tmp.resolve("in"));
    for (int i = 0; i < 3; i++) Files.writeString(in.resolve("d" + i + ".txt"), DOCS[i]);
    Files.writeString(in.resolve("long.txt"), "y".repeat(300));
    Path out = tmp.resolve("out[1].parquet"); // brackets: a literal path, not a pattern
    ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
    int code =
        ScoreJob.run(
            new String[] {
              "--model",
              model.toString(),
              "--input",
              in.toString(),
              "--output",
              out.toString(),
              "--boundaries",
              "--max-bytes",
              "200"
            },
            new PrintStream(o, true),
            new PrintStream(e, true));
    assertEquals(0, code, e.toString());
    assertTrue(o.toString().contains("scored 3 documents"), o.toString());
    assertTrue(o.toString().contains("bad rows: 1 over 200 bytes (300)"), o.toString());
    Dataset<Row> back = spark.read().parquet(ScoreJob.literal(out.toString()));
    assertEquals(4, back.count());
    assertTrue(List.of(back.columns()).contains("path"));
    // JSONL in, the same documents, the same scores
    Path jsonl = tmp.resolve("docs.jsonl");
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 3; i++)
      sb.append("{\"id\": ").append(i).append(", \"text\": \"").append(DOCS[i]).append("\"}\n");
    Files.writeString(jsonl, sb);
    Path out2 = tmp.resolve("out2.parquet");
    assertEquals(
        0,
        ScoreJob.run(
            new String[] {
              "--model", model.toString(), "--input", jsonl.toString(), "--output", out2.toString()
            },
            new PrintStream(o, true),
            new PrintStream(e, true)),
        e.toString());
    double a = spark.read().parquet(out2.toString()).where("id = 1").first().getAs(HNetSpark.BPB);
    assertEquals(HNetModel.load(model).score(DOCS[1]).bitsPerByte(), a, 1e-9);
    // Parquet in (the job's own output), another text column name
    Path out3 = tmp.resolve("out3.parquet");
    spark
        .read()
        .parquet(out2.toString())
        .select("id", "text")
        .withColumnRenamed("text", "body")
        .write()
        .parquet(tmp.resolve("p.parquet").toString());
    assertEquals(
        0,
        ScoreJob.run(
            new String[] {
              "--model",
              model.toString(),
              "--input",
              tmp.resolve("p.parquet").toString(),
              "--output",
              out3.toString(),
              "--text-column",
              "body"
            },
            new PrintStream(o, true),
            new PrintStream(e, true)),
        e.toString());
    // an existing output is never replaced; usage errors exit 2
    e.reset();
    assertEquals(
        1,
        ScoreJob.run(
            new String[] {
              "--model", model.toString(), "--input", in.toString(), "--output", out.toString()
            },
            new PrintStream(o, true),
            new PrintStream(e, true)));
    assertTrue(e.toString().contains("exists"), e.toString());
    assertEquals(
        2,
        ScoreJob.run(
            new String[] {"--model", model.toString(), "--input", in.toString()},
            new PrintStream(o, true),
            new PrintStream(e, true)));
    e.reset();
    assertEquals(
        1,
        ScoreJob.run(
            new String[] {
              "--model",
              tmp.resolve("nope").toString(),
              "--input",
              in.toString(),
              "--output",
              tmp.resolve("o4").toString()
            },
            new PrintStream(o, true),
            new PrintStream(e, true)));
    assertTrue(e.toString().contains("--model"), e.toString());
    assertFalse(Files.exists(tmp.resolve("o4")));
  }
}
