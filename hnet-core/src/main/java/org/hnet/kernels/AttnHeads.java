package org.hnet.kernels;

/**
 * The dimensions of causal multi-head attention over packed sequences, as {@link Attention} and
 * {@link AttentionBackward} take them. Legend: H = {@code heads}, P = {@code headDim} (HP = H·P, a
 * qkv row is q | k | v of HP each), R = {@code rotaryDim} (the first R channels of each head of q
 * and k get the rotary; even, ≤ P), window: −1 = unlimited (every earlier position of the
 * sequence), w ≥ 0: query i sees keys j with i − w ≤ j ≤ i.
 *
 * <p>Checked as {@link Attention#checkArgs} checks them, with the same messages.
 */
public record AttnHeads(int heads, int headDim, int rotaryDim, int window) {
  public AttnHeads {
    if (heads < 1 || headDim < 1) throw new IllegalArgumentException("H and P must be >= 1");
    Rotary.checkDims(headDim, rotaryDim);
    if (window < -1) throw new IllegalArgumentException("window must be >= -1, got " + window);
  }
}
