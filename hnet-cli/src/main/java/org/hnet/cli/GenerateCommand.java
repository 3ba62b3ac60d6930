package org.hnet.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.hnet.HNetException;
import org.hnet.generate.GenerateOptions;
import org.hnet.generate.Generator;
import org.hnet.generate.SamplingOptions;
import org.hnet.nn.HNetForCausalLM;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hnet generate}: byte-by-byte generation, streamed, batched, with the chunks on show. */
@Command(
    name = "generate",
    header = "Generates text from a prompt, streaming, optionally with the chunks marked.",
    mixinStandardHelpOptions = true,
    description = {
      "Generates text byte by byte with the inference caches and streams it to stdout as it is produced",
      "(a multi-byte character is printed when complete; invalid UTF-8 from the model shows as U+FFFD).",
      "--batch-file decodes one prompt per line together, each row exactly as it would decode alone."
    },
    footer = {
      "",
      "Examples:",
      "  ./hnet generate --model runs/demo --prompt 'Call me Ishmael.' --max-bytes 300",
      "  ./hnet generate --model runs/demo --prompt 'The whale' --temperature 0.8 --top-p 0.9 --seed 7 --show-chunks",
      "  ./hnet generate --model runs/demo --batch-file prompts.txt --max-bytes 100"
    })
final class GenerateCommand implements Callable<Integer> {
  @Mixin ModelOption model;

  static final class PromptSource {
    @Option(names = "--prompt", paramLabel = "TEXT", description = "The prompt.")
    String prompt;

    @Option(
        names = "--prompt-file",
        paramLabel = "F",
        description = "Read the prompt (raw bytes) from a file.")
    Path promptFile;

    @Option(
        names = "--batch-file",
        paramLabel = "PROMPTS.txt",
        description = "One prompt per line, decoded together as a batch.")
    Path batchFile;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  PromptSource source;

  @Option(
      names = "--max-bytes",
      defaultValue = "256",
      description = "Bytes to generate per prompt (default: ${DEFAULT-VALUE}).")
  int maxBytes;

  @Option(
      names = "--temperature",
      defaultValue = "1.0",
      description = "0 = greedy (default: ${DEFAULT-VALUE}).")
  double temperature;

  @Option(
      names = "--top-k",
      defaultValue = "0",
      description = "Sample among the k most likely bytes; 0 = off (default).")
  int topK;

  @Option(
      names = "--top-p",
      defaultValue = "1.0",
      description = "Nucleus sampling; 1 = off (default).")
  double topP;

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Seed of the sampler (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--stop",
      paramLabel = "TEXT",
      description = "Stop after this text (repeatable; it is printed).")
  List<String> stop = new ArrayList<>();

  @Option(names = "--no-eos", description = "Do not stop at the EOS byte (255).")
  boolean noEos;

  @Option(names = "--no-bos", description = "Do not prepend BOS (254) to the prompt.")
  boolean noBos;

  @Option(
      names = "--show-chunks",
      description =
          "Mark each chunk boundary as it is decided (colours on a terminal, | and ‖ when piped).")
  boolean showChunks;

  @Mixin ThreadsOption threads;

  @Override
  public Integer call() throws IOException {
    threads.apply();
    List<byte[]> prompts = new ArrayList<>();
    if (source.prompt != null) prompts.add(source.prompt.getBytes(StandardCharsets.UTF_8));
    else if (source.promptFile != null) prompts.add(read(source.promptFile));
    else
      for (String line : new String(read(source.batchFile), StandardCharsets.UTF_8).split("\n", -1))
        if (!line.isEmpty()) prompts.add(line.getBytes(StandardCharsets.UTF_8));
    if (prompts.isEmpty())
      throw new HNetException(source.batchFile + ": no prompts (one per line)");
    List<byte[]> stops = new ArrayList<>();
    for (String s : stop) stops.add(s.getBytes(StandardCharsets.UTF_8));
    GenerateOptions o =
        new GenerateOptions(
            maxBytes, new SamplingOptions(temperature, topK, topP, seed), !noEos, stops, !noBos);
    HNetForCausalLM lm = model.load();
    PrintStream out =
        new PrintStream(
            new java.io.FileOutputStream(java.io.FileDescriptor.out),
            false,
            StandardCharsets.UTF_8);
    boolean ansi = System.console() != null && System.getenv("NO_COLOR") == null;
    Generator gen = new Generator(lm);
    if (prompts.size() == 1) {
      out.print(new String(prompts.get(0), StandardCharsets.UTF_8));
      out.flush();
      ChunkView.Printer printer = new ChunkView.Printer(out, showChunks, ansi);
      gen.generate(prompts, o, (row, b, depth) -> printer.push(b, depth));
      printer.finish();
      out.println();
    } else {
      List<Generator.Result> results = gen.generate(prompts, o, (row, b, depth) -> {});
      for (int r = 0; r < results.size(); r++) {
        ChunkView.Printer printer = new ChunkView.Printer(out, showChunks, ansi);
        out.print("[" + r + "] " + new String(prompts.get(r), StandardCharsets.UTF_8));
        Generator.Result res = results.get(r);
        for (int i = 0; i < res.bytes().length; i++)
          printer.push(res.bytes()[i] & 0xff, res.depth()[i]);
        printer.finish();
        out.println();
      }
    }
    out.flush();
    return 0;
  }

  private static byte[] read(Path f) {
    try {
      return Files.readAllBytes(f);
    } catch (IOException e) {
      throw new HNetException(f + ": cannot read: " + e.getMessage());
    }
  }
}
