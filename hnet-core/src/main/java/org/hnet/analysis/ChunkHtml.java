package org.hnet.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.hnet.HNetException;

/**
 * A self-contained HTML page that shows a learned chunking: inline CSS, inline SVG and a few lines
 * of inline JS, no network resources and no external fonts, so the file can be opened offline,
 * attached to an issue or screenshotted.
 *
 * <p>Layout: a header, one card per stage (compression, length summary, word-alignment precision
 * and recall against their random baselines, a chunk-length histogram as inline SVG, the most
 * frequent chunks), then the text. In the text every stage-0 chunk is a small box; each stage s ≥ 1
 * chunk is a colour band under the boxes it contains (bands of higher stages sit lower and have
 * their own colour; adjacent chunks alternate two shades, and a gap follows the end of each
 * higher-stage chunk). Hovering a character shows its byte offsets, bytes and the boundary
 * probability of each of its bytes at each stage.
 *
 * <p>Text: decoded character by character (see {@link Utf8}), each character in the chunk where its
 * first byte is: a boundary inside a multi-byte character leaves that chunk's element empty. A
 * malformed byte shows as U+FFFD. Spaces, tabs and newlines are kept (CSS pre-wrap, so newlines
 * break lines) and marked with a faint ·, → or ↵; other C0 controls (including CR) show as their
 * Unicode control pictures.
 */
public final class ChunkHtml {
  private ChunkHtml() {}

  /** Per stage: legend colour, two alternating band/box shades, and a border colour. */
  private static final String[][] PALETTE = {
    {"#3b82f6", "#e8f0fe", "#d6e4fc", "#a9c3f2"},
    {"#0d9488", "#14b8a6", "#0f766e", "#0d9488"},
    {"#7c3aed", "#a78bfa", "#6d28d9", "#7c3aed"},
    {"#ea580c", "#fb923c", "#c2410c", "#ea580c"},
  };

  /**
   * The page.
   *
   * @param title shown as the page title and heading (escaped)
   * @param text the bytes
   * @param boundaries per stage, stage 0 first (see {@link ChunkStats} for the contract)
   * @param probs per stage the boundary probability at each byte (NaN where the stage has none);
   *     the list or any entry may be null
   * @param stats per-stage statistics, or null to compute them here
   * @throws HNetException if the boundaries or probabilities do not fit the text or each other
   */
  public static String render(
      String title,
      byte[] text,
      List<boolean[]> boundaries,
      List<float[]> probs,
      List<ChunkStats.Stage> stats) {
    ChunkStats.validate(text, boundaries);
    ChunkStats all = ChunkStats.compute(text, boundaries);
    if (stats == null) stats = all.stages();
    int stages = boundaries.size();
    StringBuilder h = new StringBuilder(text.length * 48 + 16_384);
    h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>")
        .append(esc(title))
        .append("</title>\n<style>\n")
        .append(css(stages))
        .append("</style>\n</head>\n<body>\n<main>\n<header>\n<h1>")
        .append(esc(title))
        .append("</h1>\n<p class=\"sub\">")
        .append(
            String.format(
                Locale.ROOT, "%,d bytes · %,d characters · ", text.length, all.characters()))
        .append(stages)
        .append(stages == 1 ? " stage" : " stages")
        .append("</p>\n</header>\n<section class=\"cards\">\n");
    for (int s = 0; s < stats.size(); s++) card(h, stats.get(s), all.profile());
    h.append("</section>\n<section class=\"panel\">\n<div class=\"legend\">");
    for (int s = 0; s < stages; s++) {
      h.append("<span class=\"lg\"><span class=\"sw sw")
          .append(s)
          .append("\"></span>stage ")
          .append(s)
          .append(s == 0 ? " chunks (boxes)" : " chunks (bands)")
          .append("</span>");
    }
    h.append("<span class=\"hint\">hover a character for its boundary probabilities</span>")
        .append("</div>\n<div class=\"text\" id=\"text\">");
    body(h, text, boundaries);
    h.append("</div>\n</section>\n<footer>H-Net dynamic chunking · hnet-java</footer>\n")
        .append("</main>\n<div id=\"tip\" class=\"tip\"></div>\n<script>\n")
        .append("const P=")
        .append(probsJson(text.length, stages, probs))
        .append(";\n")
        .append(JS)
        .append("</script>\n</body>\n</html>\n");
    return h.toString();
  }

  /** The text as nested chunk elements; no whitespace between tags (the text is pre-wrap). */
  private static void body(StringBuilder h, byte[] text, List<boolean[]> boundaries) {
    int n = text.length;
    int stages = boundaries.size();
    int[] chunkIndex = new int[stages];
    boolean[] charStart = new boolean[n];
    int[] starts = Utf8.starts(text);
    for (int c = 0; c + 1 < starts.length; c++) charStart[starts[c]] = true;
    for (int t = 0; t < n; t++) {
      int d = -1;
      for (int s = stages - 1; s >= 0 && d < 0; s--) if (boundaries.get(s)[t]) d = s;
      if (d >= 0) {
        if (t > 0) h.append("</span>".repeat(d + 1));
        for (int s = d; s >= 0; s--) {
          boolean[] b = boundaries.get(s);
          int end = t + 1;
          while (end < n && !b[end]) end++;
          h.append("<span class=\"k k")
              .append(s)
              .append(chunkIndex[s]++ % 2 == 0 ? " a" : " b")
              .append(charStart[t] ? "" : " e")
              .append("\" data-n=\"")
              .append(end - t)
              .append("\">");
        }
      }
      if (charStart[t]) character(h, text, t);
    }
    if (n > 0) h.append("</span>".repeat(stages));
  }

  private static void character(StringBuilder h, byte[] text, int t) {
    int len = Utf8.length(text, t);
    int cp = Utf8.codePoint(text, t, len);
    String cls = null;
    String shown;
    if (cp == Utf8.INVALID) {
      shown = "\uFFFD";
      cls = "bad";
    } else if (cp == ' ') {
      shown = " ";
      cls = "sp";
    } else if (cp == '\n') {
      shown = "\n";
      cls = "nl";
    } else if (cp == '\t') {
      shown = "\t";
      cls = "tb";
    } else if (cp < 0x20 || cp == 0x7f) {
      shown = String.valueOf((char) (cp == 0x7f ? 0x2421 : 0x2400 + cp));
      cls = "cc";
    } else if (Utf8.isWhitespace(cp)) {
      shown = Character.toString(cp);
      cls = "ws";
    } else {
      shown = Character.toString(cp);
    }
    h.append("<i");
    if (cls != null) h.append(" class=\"").append(cls).append('"');
    h.append(" data-i=\"").append(t).append("\" data-l=\"").append(len).append("\">");
    h.append(esc(shown)).append("</i>");
  }

  private static void card(StringBuilder h, ChunkStats.Stage st, ChunkStats.TextProfile profile) {
    int s = st.stage();
    ChunkStats.Lengths l = st.lengths();
    h.append("<article class=\"card c")
        .append(s % PALETTE.length)
        .append("\">\n")
        .append("<div class=\"ch\"><span class=\"sw sw")
        .append(s)
        .append("\"></span>")
        .append("<span class=\"st\">Stage ")
        .append(s)
        .append("</span>")
        .append("<span class=\"cnt\">")
        .append(String.format(Locale.ROOT, "%,d", st.boundaries()))
        .append(" chunks</span></div>\n")
        .append("<div class=\"big\">")
        .append(fmt(st.compression(), 2))
        .append("<span class=\"unit\"> bytes / chunk</span></div>\n")
        .append("<div class=\"meta\">mean ")
        .append(fmt(l.mean(), 1))
        .append(" · median ")
        .append(fmt(l.median(), 1))
        .append(" · p90 ")
        .append(l.p90() == null ? "–" : l.p90())
        .append(" · max ")
        .append(l.max())
        .append("</div>\n");
    ChunkStats.Alignment a = st.alignment();
    if (a != null) {
      meter(
          h,
          "Word-boundary precision",
          a.precision(),
          a.baselinePrecision(),
          a.aligned() + " of " + a.boundaries() + " boundaries at a space or punctuation");
      meter(
          h,
          "Word recall",
          a.recall(),
          a.baselineRecall(),
          a.caught() + " of " + a.words() + " words start at a boundary");
    } else {
      h.append("<div class=\"na\">Word alignment not computed: ")
          .append(esc(profile.note() == null ? "no data" : profile.note()))
          .append("</div>\n");
    }
    histogram(h, l, s);
    if (!st.top().isEmpty()) {
      h.append("<div class=\"tops\">");
      for (ChunkStats.TopChunk tc : st.top().subList(0, Math.min(10, st.top().size()))) {
        h.append("<span class=\"chip\" title=\"")
            .append(tc.count())
            .append("×\">")
            .append(esc(tc.display()))
            .append("<sub>")
            .append(tc.count())
            .append("</sub></span>");
      }
      h.append("</div>\n");
    }
    h.append("</article>\n");
  }

  /** A horizontal bar for value, with a tick and label at the random baseline. */
  private static void meter(StringBuilder h, String label, Double v, Double base, String what) {
    double pv = v == null ? 0 : 100 * v;
    h.append("<div class=\"m\" title=\"")
        .append(esc(what))
        .append("\">")
        .append("<div class=\"ml\"><span>")
        .append(label)
        .append("</span><b>")
        .append(v == null ? "–" : String.format(Locale.ROOT, "%.1f%%", pv))
        .append("</b></div>")
        .append("<div class=\"track\"><div class=\"fill\" style=\"width:")
        .append(String.format(Locale.ROOT, "%.2f", pv))
        .append("%\"></div>");
    if (base != null) {
      h.append("<div class=\"base\" style=\"left:")
          .append(String.format(Locale.ROOT, "%.2f", 100 * base))
          .append("%\"></div>");
    }
    h.append("</div><div class=\"mb\">random baseline ")
        .append(base == null ? "–" : String.format(Locale.ROOT, "%.1f%%", 100 * base))
        .append(
            v != null && base != null && base > 0
                ? String.format(Locale.ROOT, " · %.1f× baseline", v / base)
                : "")
        .append("</div></div>\n");
  }

  /** Chunk length histogram as an inline SVG bar chart (lengths 1..max, overflow last). */
  private static void histogram(StringBuilder h, ChunkStats.Lengths l, int s) {
    int[] hist = l.histogram();
    int overflow = hist[ChunkStats.HISTOGRAM_MAX];
    int lastLen = Math.max(1, Math.min(l.max(), ChunkStats.HISTOGRAM_MAX));
    int bars = lastLen + (overflow > 0 ? 1 : 0);
    int peak = 1;
    for (int v : hist) peak = Math.max(peak, v);
    // At least 16 slots so a short-tailed distribution does not get fat bars.
    int slots = Math.max(bars, 16);
    double w = 480;
    double plotH = 70;
    double top = 14;
    double bw = w / slots;
    String colour = PALETTE[s % PALETTE.length][0];
    h.append("<svg class=\"hist\" viewBox=\"0 0 480 104\" role=\"img\" aria-label=\"")
        .append("chunk length histogram, stage ")
        .append(s)
        .append("\">")
        .append("<text x=\"0\" y=\"9\" class=\"ax\">chunk length (bytes) · peak ")
        .append(peak)
        .append("</text>")
        .append("<line x1=\"0\" x2=\"480\" y1=\"")
        .append(fmt(top + plotH, 1))
        .append("\" y2=\"")
        .append(fmt(top + plotH, 1))
        .append("\" class=\"axl\"/>");
    for (int i = 0; i < bars; i++) {
      int v = i < lastLen ? hist[i] : overflow;
      double bh = v == 0 ? 0 : Math.max(1, plotH * v / peak);
      String label = i < lastLen ? (i + 1) + " bytes" : "> " + ChunkStats.HISTOGRAM_MAX + " bytes";
      h.append("<rect x=\"")
          .append(fmt(i * bw + bw * 0.1, 2))
          .append("\" y=\"")
          .append(fmt(top + plotH - bh, 2))
          .append("\" width=\"")
          .append(fmt(bw * 0.8, 2))
          .append("\" height=\"")
          .append(fmt(bh, 2))
          .append("\" rx=\"1\" fill=\"")
          .append(colour)
          .append(i < lastLen ? "" : "\" opacity=\"0.55")
          .append("\"><title>")
          .append(label)
          .append(": ")
          .append(v)
          .append("</title></rect>");
    }
    // x-axis labels: first, a few round values, last (or the overflow bin).
    List<Integer> ticks = new ArrayList<>(List.of(1));
    for (int t : new int[] {4, 8, 16, 32, 64}) {
      if (t < lastLen && t * bw - ticks.getLast() * bw > 18) ticks.add(t);
    }
    if (lastLen > 1 && (lastLen - ticks.getLast()) * bw > 14) ticks.add(lastLen);
    for (int t : ticks) {
      h.append("<text x=\"")
          .append(fmt((t - 0.5) * bw, 2))
          .append("\" y=\"98\" class=\"ax\" text-anchor=\"middle\">")
          .append(t)
          .append("</text>");
    }
    if (overflow > 0) {
      h.append("<text x=\"")
          .append(fmt((bars - 0.5) * bw, 2))
          .append("\" y=\"98\" class=\"ax\" text-anchor=\"middle\">&gt;64</text>");
    }
    if (l.median() != null) {
      double x = (Math.min(l.median(), lastLen) - 0.5) * bw;
      h.append("<line x1=\"")
          .append(fmt(x, 2))
          .append("\" x2=\"")
          .append(fmt(x, 2))
          .append("\" y1=\"")
          .append(fmt(top - 2, 1))
          .append("\" y2=\"")
          .append(fmt(top + plotH, 1))
          .append("\" class=\"med\"><title>median ")
          .append(fmt(l.median(), 1))
          .append("</title></line>");
    }
    h.append("</svg>\n");
  }

  /** [[p at each byte or null], ...] per stage, 3 decimals. Numbers and null only: script-safe. */
  private static String probsJson(int n, int stages, List<float[]> probs) {
    StringBuilder j = new StringBuilder(n * stages * 6 + 8).append('[');
    for (int s = 0; s < stages; s++) {
      if (s > 0) j.append(',');
      float[] p = probs != null && s < probs.size() ? probs.get(s) : null;
      if (p != null && p.length != n) {
        throw new HNetException(
            "stage "
                + s
                + " probabilities: length "
                + p.length
                + ", expected the text length "
                + n);
      }
      if (p == null) {
        j.append("null");
        continue;
      }
      j.append('[');
      for (int t = 0; t < n; t++) {
        if (t > 0) j.append(',');
        float v = p[t];
        if (Float.isNaN(v) || Float.isInfinite(v)) {
          j.append("null");
        } else {
          long r = Math.round(v * 1000.0);
          j.append(r == 0 ? "0" : r == 1000 ? "1" : String.format(Locale.ROOT, "%.3f", r / 1000.0));
        }
      }
      j.append(']');
    }
    return j.append(']').toString();
  }

  private static String fmt(Double v, int decimals) {
    return v == null ? "–" : String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  private static String fmt(double v, int decimals) {
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  /** HTML text/attribute escaping (the five significant characters). */
  static String esc(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> sb.append("&amp;");
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&#39;");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }

  private static String css(int stages) {
    StringBuilder c = new StringBuilder(CSS);
    // Bands of stage s >= 1 sit below those of stage s-1; the line height makes room for them.
    c.append(
        String.format(
            Locale.ROOT, ".text{line-height:%.2f}\n", 2.0 + 0.5 * Math.max(0, stages - 1)));
    for (int s = 0; s < Math.max(stages, 1); s++) {
      String[] p = PALETTE[s % PALETTE.length];
      c.append(".sw").append(s).append("{background:").append(p[0]).append("}\n");
      c.append(".c").append(s % PALETTE.length).append("{--accent:").append(p[0]).append("}\n");
      if (s == 0) continue;
      c.append(".k")
          .append(s)
          .append("{padding-bottom:")
          .append(1 + 5 * s)
          .append("px;border-bottom:3px solid ")
          .append(p[1])
          .append(";margin-right:")
          .append(2 + s)
          .append("px}\n");
      c.append(".k").append(s).append(".b{border-bottom-color:").append(p[2]).append("}\n");
    }
    return c.toString();
  }

  private static final String CSS =
      """
      :root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f6f7f9;--card:#fff}
      *{box-sizing:border-box}
      body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,\
      "Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
      main{max-width:1120px;margin:0 auto;padding:24px 28px 32px}
      header h1{font-size:22px;font-weight:650;margin:0 0 2px;letter-spacing:-.01em}
      .sub{margin:0 0 18px;color:var(--muted)}
      .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:14px;\
      margin-bottom:16px}
      .card{background:var(--card);border:1px solid var(--line);border-radius:10px;\
      padding:14px 16px;\
      border-top:3px solid var(--accent);box-shadow:0 1px 2px rgba(0,0,0,.04)}
      .ch{display:flex;align-items:center;gap:8px}
      .st{font-weight:600}.cnt{margin-left:auto;color:var(--muted);font-size:12.5px}
      .sw{display:inline-block;width:10px;height:10px;border-radius:3px}
      .big{font-size:26px;font-weight:650;margin:4px 0 0;letter-spacing:-.02em}
      .unit{font-size:13px;font-weight:400;color:var(--muted);letter-spacing:0}
      .meta{color:var(--muted);font-size:12.5px;margin-bottom:8px}
      .m{margin:6px 0}
      .ml{display:flex;justify-content:space-between;font-size:12.5px}
      .ml b{font-weight:600}
      .track{position:relative;height:7px;background:#eef0f3;border-radius:4px;margin:3px 0 2px}
      .fill{height:100%;background:var(--accent);border-radius:4px}
      .base{position:absolute;top:-3px;width:2px;height:13px;background:#374151;border-radius:1px}
      .mb{font-size:11.5px;color:var(--muted)}
      .na{font-size:12.5px;color:var(--muted);background:#f9fafb;border:1px dashed var(--line);\
      border-radius:6px;padding:6px 8px;margin:8px 0}
      .hist{width:100%;height:auto;display:block;margin-top:8px}
      .hist .ax{font-size:10.5px;fill:#6b7280}
      .hist .axl{stroke:#d1d5db;stroke-width:1}
      .hist .med{stroke:#111827;stroke-width:1;stroke-dasharray:2 2}
      .tops{display:flex;flex-wrap:wrap;gap:4px;margin-top:8px}
      .chip{font:12px/1.5 ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",\
      monospace;background:#f3f4f6;border:1px solid var(--line);border-radius:5px;\
      padding:0 5px;white-space:pre}
      .chip sub{color:var(--muted);font-size:9.5px;margin-left:3px;vertical-align:baseline}
      .panel{background:var(--card);border:1px solid var(--line);border-radius:10px;\
      padding:14px 18px 18px;\
      box-shadow:0 1px 2px rgba(0,0,0,.04)}
      .legend{display:flex;flex-wrap:wrap;gap:16px;align-items:center;font-size:12.5px;\
      color:var(--muted);\
      border-bottom:1px solid var(--line);padding-bottom:10px;margin-bottom:10px}
      .lg{display:inline-flex;align-items:center;gap:6px}
      .hint{margin-left:auto;font-style:italic}
      .text{font:15px ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",\
      monospace;\
      white-space:pre-wrap;overflow-wrap:anywhere;padding:4px 0 8px}
      .k{-webkit-box-decoration-break:clone;box-decoration-break:clone}
      .k0{background:#e8f0fe;border:1px solid #a9c3f2;border-radius:4px;\
      padding:1px 1px;margin:0 1px 0 0}
      .k0.b{background:#d6e4fc}
      .k.e{padding:1px 0;border-style:dashed}
      .text i{font-style:normal;position:relative;border-radius:2px}
      .text i:hover{background:#fde68a;outline:1px solid #f59e0b}
      .text i.sp::after,.text i.nl::before,.text i.tb::after{\
      color:#9ca3af;opacity:.55;pointer-events:none}
      .text i.sp::after{content:"·";position:absolute;left:0;right:0;text-align:center}
      .text i.tb::after{content:"→";position:absolute;left:0}
      .text i.nl::before{content:"↵"}
      .text i.cc,.text i.bad{color:#b91c1c}
      .text i.ws{background:#f3f4f6}
      footer{color:var(--muted);font-size:11.5px;margin-top:14px;text-align:right}
      .tip{position:fixed;display:none;pointer-events:none;z-index:10;\
      background:#111827;color:#f9fafb;\
      font:12px/1.45 ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;padding:7px 9px;\
      border-radius:6px;box-shadow:0 4px 14px rgba(0,0,0,.25);white-space:pre}
      """;

  /** Tooltip: byte offsets, bytes in hex, and each stage's boundary probability per byte. */
  private static final String JS =
      """
      (function(){
        const tip=document.getElementById('tip'), text=document.getElementById('text');
        const f=p=>p==null?' –  ':p.toFixed(3);
        text.addEventListener('mousemove',e=>{
          const el=e.target.closest('i[data-i]');
          if(!el){tip.style.display='none';return;}
          const i=+el.dataset.i, l=+el.dataset.l, ch=el.textContent;
          const hex=Array.from(new TextEncoder().encode(ch)).map(b=>b.toString(16).padStart(2,'0'));
          let s='byte '+i+(l>1?'–'+(i+l-1):'')+'  '+JSON.stringify(ch)+'  '
          +(l>1||ch.charCodeAt(0)<128?hex.join(' '):'');
          let k=el.parentElement, lens=[];
          while(k&&k.classList&&k.classList.contains('k')){
            lens.push(k.dataset.n);k=k.parentElement;
          }
          P.forEach((p,st)=>{
            const ps=[];for(let j=i;j<i+l;j++)ps.push(p?f(p[j]):' –  ');
            s+='\\nstage '+st+'  p='+ps.join(' ')+(lens[st]?'  chunk '+lens[st]+' B':'');
          });
          tip.textContent=s; tip.style.display='block';
          const w=tip.offsetWidth, hh=tip.offsetHeight;
          tip.style.left=Math.min(e.clientX+14, innerWidth-w-8)+'px';
          tip.style.top=(e.clientY+18+hh>innerHeight? e.clientY-hh-10 : e.clientY+18)+'px';
        });
        text.addEventListener('mouseleave',()=>{tip.style.display='none';});
      })();
      """;
}
