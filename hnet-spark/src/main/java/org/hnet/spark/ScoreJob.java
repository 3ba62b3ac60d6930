package org.hnet.spark;

import java.io.PrintStream;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.hnet.nn.WeightFormat;

/**
 * The scoring job: reads documents, adds the H-Net columns, writes Parquet.
 *
 * <pre>
 * spark-submit --class org.hnet.spark.ScoreJob hnet-spark-*-all.jar \
 *     --model /models/hnet --input corpus/ --output scored.parquet
 * </pre>
 *
 * Input: a directory or file of text files (each file one document, column {@code path} beside
 * {@code text}), a JSONL file (one document per line in the field {@code --text-column}, default
 * {@code text}) or Parquet (any columns; the text in {@code --text-column}); the format follows the
 * extension ({@code .jsonl}, {@code .json}, {@code .parquet}) or {@code --format}. Output: the
 * input columns plus those of {@link HNetSpark}, as Parquet; an existing output is never replaced.
 * The job ends by printing how many documents it scored and how many bad rows it found, by reason.
 */
public final class ScoreJob {
  private ScoreJob() {}

  static final String USAGE =
      "usage: ScoreJob --model DIR --input PATH --output PATH [--format text|jsonl|parquet]"
          + " [--text-column NAME] [--boundaries] [--chunk-texts] [--threads N] [--window BYTES]"
          + " [--overlap BYTES] [--max-bytes BYTES] [--weights f32|bf16|int8] [--partitions N]"
          + " [--master URL]";

  /** A usage error: one line, exit code 2. */
  static final class Usage extends RuntimeException {
    Usage(String m) {
      super(m);
    }
  }

  record Args(
      String model,
      String input,
      String output,
      String format,
      int partitions,
      String master,
      ScoreOptions options) {}

  static Args parse(String[] a) {
    String model = null, input = null, output = null, format = null, master = null;
    int partitions = 0;
    ScoreOptions o = ScoreOptions.defaults();
    int window = o.window(), overlap = o.overlap();
    for (int i = 0; i < a.length; i++) {
      String k = a[i];
      switch (k) {
        case "--boundaries" -> o = o.withBoundaries(true);
        case "--chunk-texts" -> o = o.withChunkTexts(true);
        case "--model",
            "--input",
            "--output",
            "--format",
            "--text-column",
            "--threads",
            "--window",
            "--overlap",
            "--max-bytes",
            "--weights",
            "--partitions",
            "--master" -> {
          if (i + 1 >= a.length) throw new Usage(k + " needs a value");
          String v = a[++i];
          switch (k) {
            case "--model" -> model = v;
            case "--input" -> input = v;
            case "--output" -> output = v;
            case "--format" -> {
              if (!v.equals("text") && !v.equals("jsonl") && !v.equals("parquet"))
                throw new Usage("--format must be text, jsonl or parquet, not '" + v + "'");
              format = v;
            }
            case "--text-column" -> o = o.withTextColumn(v);
            case "--threads" -> o = o.withThreads(number(k, v));
            case "--window" -> window = number(k, v);
            case "--overlap" -> overlap = number(k, v);
            case "--max-bytes" -> o = o.withMaxBytes(number(k, v));
            case "--weights" -> {
              WeightFormat w = WeightFormat.parse(v);
              if (w == null)
                throw new Usage("--weights must be f32, bf16 or int8, not '" + v + "'");
              o = o.withWeights(w);
            }
            case "--partitions" -> partitions = number(k, v);
            default -> master = v;
          }
        }
        default -> throw new Usage("unknown option '" + k + "'");
      }
    }
    if (model == null || input == null || output == null)
      throw new Usage("--model, --input and --output are required");
    try {
      o = o.withWindow(window, overlap);
    } catch (IllegalArgumentException e) {
      throw new Usage(e.getMessage());
    }
    if (format == null) {
      String l = input.toLowerCase(Locale.ROOT);
      format =
          l.endsWith(".parquet")
              ? "parquet"
              : l.endsWith(".jsonl") || l.endsWith(".json") ? "jsonl" : "text";
    }
    return new Args(model, input, output, format, partitions, master, o);
  }

  private static int number(String k, String v) {
    try {
      int n = Integer.parseInt(v);
      if (n < 0) throw new NumberFormatException();
      return n;
    } catch (NumberFormatException e) {
      throw new Usage(k + " must be a whole number >= 0, not '" + v + "'");
    }
  }

  /**
   * A path for Spark's readers that means itself: brackets, braces, * and ? escaped (not a glob).
   */
  static String literal(String path) {
    return path.replaceAll("([\\[\\]{}*?\\\\])", "\\\\$1");
  }

  /** Reads the documents of {@code input} in {@code format}. */
  static Dataset<Row> read(SparkSession spark, String input, String format, ScoreOptions o) {
    return switch (format) {
      case "parquet" -> spark.read().parquet(input);
      case "jsonl" -> spark.read().json(input);
      default ->
          spark
              .read()
              .option("wholetext", true)
              .text(input)
              .select(
                  functions.col("_metadata.file_path").as("path"),
                  functions.col("value").as(o.textColumn()));
    };
  }

  /** Runs the job; returns the exit code (0, 1 for bad input, 2 for usage). */
  static int run(String[] argv, PrintStream out, PrintStream err) {
    Args a;
    try {
      a = parse(argv);
    } catch (Usage e) {
      err.println("hnet-spark: " + e.getMessage());
      err.println(USAGE);
      return 2;
    }
    java.nio.file.Path outPath = java.nio.file.Path.of(a.output());
    if (java.nio.file.Files.exists(outPath)) {
      err.println("hnet-spark: --output " + a.output() + ": exists; the job writes a new one");
      return 1;
    }
    // the model is loaded by the executors; its directory is checked here, once
    java.nio.file.Path dir = org.hnet.HNetModel.modelDirectory(java.nio.file.Path.of(a.model()));
    if (!java.nio.file.Files.isRegularFile(dir.resolve("config.json"))) {
      err.println(
          "hnet-spark: --model "
              + a.model()
              + ": not a model directory (config.json and model.safetensors or model.pt) or a"
              + " training run");
      return 1;
    }
    SparkSession.Builder b = SparkSession.builder().appName("hnet-spark score");
    if (a.master() != null) b = b.master(a.master());
    SparkSession spark = b.getOrCreate();
    // in local mode (./hnet spark-score) the user's terminal is the log: errors only
    if (a.master() != null && a.master().startsWith("local"))
      spark.sparkContext().setLogLevel("ERROR");
    boolean reading = true; // an AnalysisException until the columns are added is about the input
    try {
      Dataset<Row> docs = read(spark, a.input(), a.format(), a.options());
      if (a.partitions() > 0) docs = docs.repartition(a.partitions());
      Dataset<Row> scored = HNetSpark.score(docs, a.model(), a.options());
      reading = false;
      long t0 = System.nanoTime();
      scored.write().parquet(a.output());
      double s = (System.nanoTime() - t0) / 1e9;
      // read back what was written (a literal path: brackets and braces are not a pattern)
      Dataset<Row> back = spark.read().parquet(literal(a.output()));
      Row sums =
          back.agg(
                  functions.count(functions.col(HNetSpark.BPB)),
                  functions.sum(functions.col(HNetSpark.BYTES)),
                  functions.count(functions.lit(1)))
              .first();
      long ok = sums.getLong(0), bytes = sums.isNullAt(1) ? 0 : sums.getLong(1);
      out.printf(
          Locale.ROOT,
          "scored %,d documents (%,d bytes) in %.1f s: %.1f documents/s, %.0f bytes/s; wrote %s%n",
          ok,
          bytes,
          s,
          ok / s,
          bytes / s,
          a.output());
      for (Row r :
          back.where(functions.col(HNetSpark.ERROR).isNotNull())
              .groupBy(HNetSpark.ERROR)
              .count()
              .orderBy(functions.desc("count"))
              .collectAsList())
        out.printf(Locale.ROOT, "bad rows: %,d %s%n", r.getLong(1), r.getString(0));
      return 0;
    } catch (Exception e) {
      if (e instanceof org.apache.spark.sql.AnalysisException) {
        // a missing input, or a column that is not there; later, what the job wrote
        err.println(
            "hnet-spark: "
                + (reading ? "--input " + a.input() : "--output " + a.output())
                + ": "
                + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        return 1;
      }
      if (e instanceof IllegalArgumentException || e instanceof org.hnet.HNetException) {
        err.println("hnet-spark: " + e.getMessage());
        return 1;
      }
      throw e instanceof RuntimeException re ? re : new RuntimeException(e);
    } finally {
      if (a.master() != null) spark.stop();
    }
  }

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }
}
