package org.hnet;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Consumer;
import org.hnet.generate.GenerateOptions;
import org.hnet.generate.Generator;
import org.hnet.generate.Scorer;
import org.hnet.generate.Utf8Stream;
import org.hnet.nn.HNetForCausalLM;

/**
 * The embedding API: load a model directory, generate (whole, streamed through a callback or an
 * {@link Iterator}, or batched), score a text.
 *
 * <p>Thread safety: one HNetModel may be used by several threads at once for {@code generate},
 * {@code stream}, {@code generateBatch} and {@code score}: every call allocates its own inference
 * caches (which also own the buffers of the decode steps; a scoring forward allocates per call),
 * the weights are only read, and the model's prefill buffers are taken by one prompt's prefill at a
 * time (another thread's prefill meanwhile allocates its own). (Training a model while it serves is
 * not supported: training keeps its activations in the model.)
 *
 * <pre>{@code
 * HNetModel model = HNetModel.load(Path.of("runs/demo"));
 * GenerateOptions opts = GenerateOptions.of(200, new SamplingOptions(0.8, 0, 0.95, 42));
 * model.generate("Call me Ishmael.", opts, System.out::print);     // streamed as produced
 * Scorer.Score s = model.score("It was the best of times.");       // per-byte log-probs, chunks
 * }</pre>
 */
public final class HNetModel {
  private final HNetForCausalLM lm;

  private HNetModel(HNetForCausalLM lm) {
    this.lm = lm;
  }

  /**
   * Loads {@code config.json} + {@code model.safetensors}/{@code model.pt}, or a training run's
   * checkpoint.
   */
  public static HNetModel load(Path dir) {
    return load(dir, null);
  }

  /**
   * As {@link #load(Path)}, with the large products' weights held in {@code format} ({@link
   * org.hnet.nn.WeightFormat#BF16} or {@code INT8} for smaller, faster inference; null: as the
   * directory stores them).
   */
  public static HNetModel load(Path dir, org.hnet.nn.WeightFormat format) {
    return new HNetModel(HNetForCausalLM.load(modelDirectory(dir), format));
  }

  /**
   * The model directory that {@code dir} names: itself when it holds config.json, else, for a
   * training run directory, its newest complete checkpoint (checkpoint/, or what a kill during a
   * checkpoint swap left); otherwise {@code dir} itself, which loading then reports.
   */
  public static Path modelDirectory(Path dir) {
    if (Files.exists(dir.resolve("config.json")) || !Files.isDirectory(dir)) return dir;
    Path ck = new org.hnet.train.RunDir(dir).latestCheckpoint();
    return ck != null ? ck : dir;
  }

  public HNetForCausalLM model() {
    return lm;
  }

  /** Generates a completion of {@code prompt} and returns it as text. */
  public String generate(String prompt, GenerateOptions o) {
    StringBuilder sb = new StringBuilder();
    generate(prompt, o, sb::append);
    return sb.toString();
  }

  /**
   * Generates, handing {@code onText} each piece of text as soon as its characters are complete.
   */
  public void generate(String prompt, GenerateOptions o, Consumer<String> onText) {
    Utf8Stream utf8 = new Utf8Stream();
    new Generator(lm)
        .generate(
            List.of(prompt.getBytes(StandardCharsets.UTF_8)),
            o,
            (row, b, depth) -> {
              String piece = utf8.push(b);
              if (!piece.isEmpty()) onText.accept(piece);
            });
    String rest = utf8.flush();
    if (!rest.isEmpty()) onText.accept(rest);
  }

  /**
   * Generates on a background thread and returns the text pieces as they come. Close the iterator
   * early by simply abandoning it: the producer stops at the next piece it cannot hand over within
   * the queue (it is a daemon thread).
   */
  public Iterator<String> stream(String prompt, GenerateOptions o) {
    BlockingQueue<Object> queue = new ArrayBlockingQueue<>(256);
    Object end = new Object();
    Thread producer =
        new Thread(
            () -> {
              try {
                generate(prompt, o, piece -> put(queue, piece));
                put(queue, end);
              } catch (RuntimeException e) {
                put(queue, e);
              }
            },
            "hnet-stream");
    producer.setDaemon(true);
    producer.start();
    return new Iterator<>() {
      private Object next;

      @Override
      public boolean hasNext() {
        if (next == null) {
          try {
            next = queue.take();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
        }
        if (next instanceof RuntimeException e) throw e;
        return next != end;
      }

      @Override
      public String next() {
        if (!hasNext()) throw new NoSuchElementException();
        String s = (String) next;
        next = null;
        return s;
      }
    };
  }

  private static void put(BlockingQueue<Object> q, Object o) {
    try {
      q.put(o);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Generates a completion for every prompt together (each as if alone); returns the texts. */
  public List<String> generateBatch(List<String> prompts, GenerateOptions o) {
    List<byte[]> bytes = prompts.stream().map(p -> p.getBytes(StandardCharsets.UTF_8)).toList();
    return new Generator(lm)
        .generate(bytes, o, (row, b, depth) -> {}).stream()
            .map(r -> new String(r.bytes(), StandardCharsets.UTF_8))
            .toList();
  }

  /** Per-byte log-probabilities of {@code text} (UTF-8) and the chunk boundaries of every stage. */
  public Scorer.Score score(String text) {
    return Scorer.score(lm, text.getBytes(StandardCharsets.UTF_8));
  }
}
