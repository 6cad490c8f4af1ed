"""The report page's template, style and 'how to read this' notes (text only, no logic)."""
from __future__ import annotations

# Each section's reading note; {placeholders} are filled by report/html.py.
READING = {
    "roofline": (
        "Each dot is one kernel (an op after fusion) placed at its intensity, the flops it does per byte "
        "of DRAM traffic, and at the throughput the roofline allows it: min(peak, bandwidth x intensity) "
        "(seed 001 Eqn 10). Left of the dotted op:byte line ({op_byte} flop/B) a kernel is memory bound "
        "(red): memory, not arithmetic, sets its speed. Dot area grows with flops; the slowest kernels are "
        "named by module path. Kernels without flops (pooling, copies) have intensity 0 and are drawn "
        "hollow at the left edge. The table lists the memory-bound kernels whose fix would speed the whole "
        "model up most (Amdahl's roofline)."),
    "waterline": (
        "The waterline (seed 001 Eqn 12-13) adds up each kernel's own minimum latency: bar width is a "
        "kernel's latency, bar height its intensity, so red bars below the op:byte line are time spent "
        "waiting on memory. Its maximum computational efficiency here is {efficiency}%. The roofline of "
        "the mediant (total flops / total bytes, seed 001 4.3) treats the model as one kernel and predicts "
        "{mediant}%: it is optimistic when memory-bound and compute-bound kernels mix. The second figure "
        "shows both predictions across processor op:byte ratios; the dotted line marks this device."),
    "batch": (
        "Weights are read once per batch while activations grow with it, so intensity rises with batch "
        "and levels off at the batch-limited limit, flops / activation bytes (seed 000 Eqn 4; here "
        "{limit} flop/B, the dotted line). On that plateau larger batches no longer raise intensity or "
        "utilization; only a different architecture does, for example folding (seed 000 3)."),
    "traffic": (
        "Each bar is one kernel's compulsory DRAM traffic in {dtype}: activations read and written "
        "(blue) and weights (orange), each moved once per batch (seed 000 Eqn 2). Tall blue bars with "
        "little orange are the activation-heavy layers that batching cannot amortise."),
    "measured": (
        "Throughput is the median of the timed trials, with the slowest and fastest trial in brackets. "
        "Utilization is achieved flop/s divided by the peak of spec '{spec}'. Computational efficiency C "
        "is ideal latency (flops / peak) over measured latency, and the log gap is -log C (seed 001 Eqn "
        "7-9)."),
    "kernels": (
        "One row per kernel under fusion policy '{fusion}', named by module path. Intensity is flop per "
        "byte of DRAM traffic; the batch-limited limit is what it would reach with weights amortised over "
        "an infinite batch. Minimum latency, time share and bound are predicted for {target}: a kernel is "
        "memory bound when its intensity is below the device's op:byte."),
    "uncounted": (
        "These ops ran but have no cost formula: their flops and bytes are not in the totals above, so "
        "the totals are a lower bound."),
}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
:root {{ --ink:#1f2328; --muted:#59636e; --line:#d1d9e0; --soft:#f6f8fa; --accent:#0969da;
        --memory:#cf222e; --compute:#1f77b4; }}
* {{ box-sizing:border-box; }}
body {{ font:15px/1.55 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif; color:var(--ink);
       margin:0; background:#fff; }}
main {{ max-width:1280px; margin:0 auto; padding:32px 28px 64px; }}
header h1 {{ font-size:28px; margin:0 0 4px; }}
.setting {{ color:var(--muted); margin:0 0 20px; }}
h2 {{ font-size:20px; margin:40px 0 12px; padding-bottom:6px; border-bottom:1px solid var(--line); }}
.cards {{ display:grid; grid-template-columns:repeat(auto-fit,minmax(200px,1fr)); gap:12px; }}
.card {{ border:1px solid var(--line); border-radius:8px; padding:12px 14px; background:var(--soft); }}
.card .label {{ font-size:12px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }}
.card .value {{ font-size:22px; font-weight:600; margin:2px 0; }}
.card .sub {{ font-size:12px; color:var(--muted); }}
.findings li {{ margin:4px 0; }}
aside.how {{ background:#f0f6ff; border-left:4px solid var(--accent); padding:10px 14px; margin:0 0 16px;
            border-radius:0 6px 6px 0; font-size:14px; }}
p.warn {{ background:#fff8e6; border-left:4px solid #bf8700; padding:10px 14px; border-radius:0 6px 6px 0; }}
.muted, .for {{ color:var(--muted); }}
figure {{ margin:16px 0 24px; text-align:center; }}
figure img {{ max-width:100%; height:auto; border:1px solid var(--line); border-radius:6px; }}
figcaption {{ font-size:13px; color:var(--muted); margin-top:6px; }}
.table-wrap {{ overflow-x:auto; margin:8px 0 20px; }}
table {{ border-collapse:collapse; font-size:13px; font-variant-numeric:tabular-nums; }}
caption {{ caption-side:top; text-align:left; color:var(--muted); padding:0 0 6px; font-size:13px; }}
th, td {{ padding:5px 9px; border-bottom:1px solid var(--line); white-space:nowrap; }}
thead th {{ white-space:normal; vertical-align:bottom; min-width:48px; max-width:120px; }}
thead th {{ background:var(--soft); position:sticky; top:0; font-weight:600; border-bottom:2px solid var(--line); }}
tbody tr:nth-child(even) {{ background:#fafbfc; }}
tbody tr:hover {{ background:#eef4ff; }}
.num {{ text-align:right; }} .text {{ text-align:left; }}
table.pairs th {{ text-align:left; font-weight:normal; color:var(--muted); background:none; position:static;
                 border-bottom:1px solid var(--line); }}
table.pairs td {{ font-weight:600; }}
table.kernels {{ font-size:12.5px; }}
table.kernels td:nth-child(3) {{ white-space:normal; min-width:160px; }}
code {{ font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; }}
.badge {{ display:inline-block; padding:0 8px; border-radius:10px; font-size:12px; color:#fff; }}
.badge.memory {{ background:var(--memory); }} .badge.compute {{ background:var(--compute); }}
footer {{ margin-top:48px; color:var(--muted); font-size:12px; }}
</style></head>
<body><main>
{body}
<footer>Written by intensity. Figures are also saved as PNG and SVG in figures/; report.json holds every
number on this page.</footer>
</main></body></html>
"""
