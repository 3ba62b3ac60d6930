package org.hnet.generate;

import java.util.ArrayList;
import java.util.List;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.RoutingModule;
import org.hnet.nn.SeqLens;

/**
 * The forward pass computed incrementally: every row's first {@code prefill} bytes are prefilled
 * (in parallel), the rest are fed one step at a time through the caches. The result has exactly the
 * layout of {@link HNetForCausalLM#forward} over B rows of L bytes (logits [B·L × V]; per stage
 * flat vectors over the stage's positions, row after row, with their offsets), so the two can be
 * compared position by position: this is the exactness check of the decoder.
 */
public final class TeacherForced {
  private TeacherForced() {}

  public static HNetForCausalLM.Output run(
      HNetForCausalLM lm, int[] tokens, int B, int L, int prefill) {
    if (prefill < 1 || prefill > L)
      throw new IllegalArgumentException("prefill must be in [1, " + L + "], got " + prefill);
    int V = lm.vocab, stages = lm.config.numStages() - 1;
    HNetForCausalLM.Cache cache = lm.allocate(B, L);
    int[] packed = new int[B * prefill];
    for (int b = 0; b < B; b++) System.arraycopy(tokens, b * L, packed, b * prefill, prefill);
    HNetForCausalLM.Output pre = lm.prefill(packed, SeqLens.uniform(B, prefill), cache);

    float[] logits = new float[B * L * V];
    for (int b = 0; b < B; b++)
      System.arraycopy(pre.logits(), b * prefill * V, logits, b * L * V, prefill * V);
    // per stage and row, the decisions in order: {p, mask, selected} per position
    List<List<List<float[]>>> perStage = new ArrayList<>();
    for (int s = 0; s < stages; s++) {
      List<List<float[]>> rows = new ArrayList<>();
      RoutingModule.Output r = pre.routing().get(s);
      int[] cu = r.seqs().cu();
      for (int b = 0; b < B; b++) {
        List<float[]> row = new ArrayList<>();
        for (int i = cu[b]; i < cu[b + 1]; i++) row.add(decision(r, i));
        rows.add(row);
      }
      perStage.add(rows);
    }
    boolean[] all = new boolean[B];
    java.util.Arrays.fill(all, true);
    int[] tok = new int[B];
    for (int t = prefill; t < L; t++) {
      for (int b = 0; b < B; b++) tok[b] = tokens[b * L + t];
      HNetForCausalLM.Output out = lm.step(tok, cache, all);
      for (int b = 0; b < B; b++) {
        System.arraycopy(out.logits(), b * V, logits, (b * L + t) * V, V);
        // stage s+1 decides only for rows that took a boundary at stage s
        for (int s = 0; s < stages; s++) {
          RoutingModule.Output r = out.routing().get(s);
          perStage.get(s).get(b).add(decision(r, b));
          if (!r.boundaryMask()[b]) break;
        }
      }
    }
    List<RoutingModule.Output> routing = new ArrayList<>();
    for (int s = 0; s < stages; s++) {
      int[] cu = new int[B + 1];
      for (int b = 0; b < B; b++) cu[b + 1] = cu[b] + perStage.get(s).get(b).size();
      float[] p = new float[cu[B]], sel = new float[cu[B]];
      boolean[] mask = new boolean[cu[B]];
      int i = 0;
      for (List<float[]> row : perStage.get(s)) {
        for (float[] dcs : row) {
          p[i] = dcs[0];
          mask[i] = dcs[1] != 0;
          sel[i++] = dcs[2];
        }
      }
      routing.add(new RoutingModule.Output(p, mask, sel, new SeqLens(cu)));
    }
    return new HNetForCausalLM.Output(logits, List.copyOf(routing));
  }

  private static float[] decision(RoutingModule.Output r, int i) {
    return new float[] {r.boundaryProb()[i], r.boundaryMask()[i] ? 1 : 0, r.selectedProbs()[i]};
  }
}
