//! The HTML report (`hnsim run/trace --format html`): one self-contained, well-formed XHTML file
//! — no scripts, no external fonts or images, nothing fetched — that any browser opens.
//!
//! Contents: the totals and a table per folder; then every scenario (failed ones first), each
//! with its topology as inline SVG ([`crate::view::layout`]) and every traced packet's path drawn over
//! it hop by hop, coloured by disposition (replies dashed), beside the step list: failed steps
//! first with their checks (expected vs actual), each packet's hops and steps, the drop's hop and
//! the matching rule (layer, rule, priority) marked. Byte-identical for the same reports.
//!
//! Structure a test (or a script) can rely on: `section.scenario` per scenario (`data-status`
//! pass/fail), one `svg.topology` in it, one `g.packet[data-packet]` per traced packet in the SVG
//! and one `details.packet[data-packet]` with the same id in the step list, `li.hop.drop` on the hop
//! where a packet was dropped, `div.step.fail` per failed step.

use super::runner::{ScenarioReport, StepReport, Table};
use crate::trace::{Action, Disposition, Exchange, Step, Trace};
use crate::view::layout::{layout, Layout, Place, BAR_H};
use crate::view::path::PacketPath;
use crate::view::{EdgeKind, Kind, Node, Topology};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Escape text for XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The colour of a disposition (paths, swatches, badges).
pub fn colour(d: &Disposition) -> &'static str {
    match d {
        Disposition::Delivered => "#0a8f3c",
        Disposition::DeniedIn { .. } | Disposition::DeniedOut { .. } => "#d32f2f",
        Disposition::NoRoute { .. } => "#f57c00",
        Disposition::NoListener { .. } => "#7b1fa2",
        Disposition::MtuExceeded { .. } => "#8d6e63",
        Disposition::Lost { .. } | Disposition::LinkDown { .. } | Disposition::HostDown { .. } => "#546e7a",
        _ => "#c2185b",
    }
}

const LEGEND: [(&str, &str); 7] = [
    ("Delivered", "#0a8f3c"),
    ("DeniedIn / DeniedOut", "#d32f2f"),
    ("NoRoute", "#f57c00"),
    ("NoListener", "#7b1fa2"),
    ("MtuExceeded", "#8d6e63"),
    ("Lost / LinkDown / HostDown", "#546e7a"),
    ("other drops", "#c2185b"),
];

const CSS: &str = "
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;padding:16px 24px;color:#1d2327;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0 0 4px}h3{font-size:14px;margin:6px 0}
code,.mono,ol.hops{font-family:ui-monospace,'Cascadia Mono',Consolas,monospace;font-size:12px}
.badge{display:inline-block;padding:1px 7px;border-radius:4px;color:#fff;font-size:12px;font-weight:600;margin-right:6px}
.badge.pass{background:#0a8f3c}.badge.fail{background:#d32f2f}
.totals .pass{color:#0a8f3c;font-weight:600}.totals .fail{color:#d32f2f;font-weight:600}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7}a{color:#0b5cad;text-decoration:none}a.fail{color:#d32f2f;font-weight:600}
.legend{margin:8px 0 16px}.legend span{margin-right:14px;white-space:nowrap}
.swatch{display:inline-block;width:18px;height:4px;vertical-align:middle;margin-right:5px;border-radius:2px}
section.scenario{border-top:3px solid #d0d7de;margin-top:24px;padding-top:10px}
section.scenario.fail{border-top-color:#d32f2f}
.meta{color:#57606a;margin:0 0 8px}.error{color:#d32f2f;font-weight:600}
.cols{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
.topology{position:sticky;top:8px;flex:0 1 auto;max-width:100%;overflow-x:auto;border:1px solid #e1e4e8;border-radius:6px;background:#fbfcfd}
.steps{flex:1 1 440px;min-width:360px}
div.step{border-left:4px solid #0a8f3c;padding:2px 10px;margin:8px 0;background:#f6f8fa}
div.step.fail{border-left-color:#d32f2f;background:#fff5f5}
ul.checks{margin:2px 0 4px;padding-left:18px}li.check.fail{color:#d32f2f}li.check.pass{color:#57606a}
details.packet{margin:4px 0;color:inherit}.packet-head{margin:2px 0;font-weight:600;cursor:pointer}
ol.hops{margin:0;padding-left:22px}ol.hops ul{margin:0;padding-left:16px;list-style:none}
li.hop.drop{background:#ffe3e3;border-radius:3px}li.drop-rule{color:#d32f2f;font-weight:700}
.drop-note{color:#d32f2f;font-weight:600;margin:2px 0}
table.reach td{font-family:ui-monospace,Consolas,monospace;text-align:center}td.mismatch{background:#ffd6d6;font-weight:700}
details{margin:6px 0;color:#57606a}
svg.topology{display:block;max-width:100%;height:auto}
svg text{font-family:system-ui,-apple-system,'Segoe UI',sans-serif}
svg .name{font-size:12px;font-weight:600;fill:#1d2327}svg .name.long{font-size:10px}svg .detail{font-size:10px;fill:#57606a}
svg .edge{stroke:#90a4ae;stroke-width:1.5}svg .edge-backend{stroke:#ef6c00;stroke-dasharray:4 3;stroke-width:1}
svg .packet polyline{fill:none;stroke-width:3;stroke-linejoin:round;stroke-linecap:round;opacity:.85}
svg .packet.reply polyline{stroke-dasharray:7 5}
svg .packet:hover polyline,svg .packet:target polyline{stroke-width:6;opacity:1}
svg:has(.packet:target) .packet:not(:target){opacity:.12}svg:has(.packet:target) .mark{opacity:.3}
a.show{font-weight:400;font-size:12px;margin-left:8px}
";

fn node_style(k: Kind) -> (&'static str, &'static str, &'static str) {
    // (fill, stroke, dash)
    match k {
        Kind::Segment => ("#90a4ae", "#607d8b", ""),
        Kind::Router => ("#ede7f6", "#5e35b1", ""),
        Kind::Station => ("#fce4ec", "#ad1457", ""),
        Kind::Host => ("#eceff1", "#37474f", ""),
        Kind::Network => ("#e3f2fd", "#1565c0", ""),
        Kind::Endpoint => ("#f1f8e9", "#558b2f", ""),
        Kind::RemoteEndpoint => ("#ffffff", "#558b2f", "5 3"),
        Kind::LoadBalancer => ("#fff3e0", "#ef6c00", ""),
    }
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// A name as drawn inside its host's block: without a leading `HOST/` (or `lb/HOST/`), which
/// names such as the Kubernetes layer's `win1/source-vip` carry. The tooltip keeps the full name.
fn local_name(n: &Node) -> &str {
    let Some(host) = n.host.as_deref() else {
        return &n.name;
    };
    let rest = n.name.strip_prefix("lb/").unwrap_or(&n.name);
    match rest.strip_prefix(host).and_then(|r| r.strip_prefix('/')) {
        Some(r) if !r.is_empty() => r,
        _ => &n.name,
    }
}

fn is_guid(s: &str) -> bool {
    s.parse::<hnsim_model::Guid>().is_ok()
}

/// At most this many traced packets of one step are drawn and listed (a bulk step could send
/// thousands); the step says how many more there were.
pub const MAX_PACKETS_PER_STEP: usize = 256;

/// One traced packet of a scenario: its id, its label in the step list, and the trace.
struct Packet<'a> {
    id: String,
    label: String,
    reply: bool,
    trace: &'a Trace,
}

/// The packets of one step, at most [`MAX_PACKETS_PER_STEP`]; and how many were left out.
fn packets<'a>(sid: &str, s: &'a StepReport) -> (Vec<Packet<'a>>, usize) {
    let many = s.exchanges.len() > 1;
    let mut out = Vec::new();
    let mut total = 0;
    for (k, ex) in s.exchanges.iter().enumerate() {
        let n = k + 1;
        for (reply, trace) in [(false, Some(&ex.request)), (true, ex.reply.as_ref())] {
            let Some(trace) = trace else { continue };
            total += 1;
            if out.len() == MAX_PACKETS_PER_STEP {
                continue;
            }
            let what = if reply { "reply" } else { "request" };
            out.push(Packet {
                id: format!("{sid}-{}-{n}-{}", s.index, &what[..3]),
                label: if many {
                    format!("packet {n} {what}")
                } else {
                    what.to_string()
                },
                reply,
                trace,
            });
        }
    }
    let left_out = total - out.len();
    (out, left_out)
}

/// The SVG of a topology with packets drawn over it.
fn svg(out: &mut String, t: &Topology, l: &Layout, pk: &[&Packet<'_>]) {
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"topology\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\">",
        w = l.width,
        h = l.height
    );
    out.push_str("<g class=\"edges\">\n");
    for e in &t.edges {
        let (a, b) = (l.places[e.a], l.places[e.b]);
        let (x1, y1, x2, y2) = match t.nodes[e.a].kind {
            // A segment bar: a vertical drop to the member.
            Kind::Segment => (b.x, a.y + BAR_H / 2, b.x, b.y - b.h / 2),
            // A router above its segment: down to the bar, clamped inside it.
            Kind::Router => {
                let x = a.x.clamp(b.x - b.w / 2 + 6, b.x + b.w / 2 - 6);
                (a.x, a.y + a.h / 2, x, b.y - BAR_H / 2)
            }
            // From the lower side of the upper box to the upper side of the lower one (a load
            // balancer sits below its backends).
            _ if a.y > b.y => (a.x, a.y - a.h / 2, b.x, b.y + b.h / 2),
            _ => (a.x, a.y + a.h / 2, b.x, b.y - b.h / 2),
        };
        let class = match e.kind {
            EdgeKind::Backend => "edge edge-backend",
            _ => "edge",
        };
        let _ = writeln!(
            out,
            "<line class=\"{class}\" x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\"><title>{}</title></line>",
            esc(&e.label)
        );
    }
    // Segments under the paths (a path runs along its bar), everything else above them.
    out.push_str("</g>\n<g class=\"nodes underlay\">\n");
    for (i, n) in t
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.kind == Kind::Segment)
    {
        draw_node(out, n, l.places[i]);
    }
    out.push_str("</g>\n<g class=\"paths\">\n");
    let mut marks = String::new();
    for (k, p) in pk.iter().enumerate() {
        let path = t.path_of(p.trace);
        draw_packet(out, &mut marks, t, l, p, &path, k);
    }
    out.push_str("</g>\n<g class=\"nodes\">\n");
    for (i, n) in t
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.kind != Kind::Segment)
    {
        draw_node(out, n, l.places[i]);
    }
    out.push_str("</g>\n<g class=\"marks\">\n");
    out.push_str(&marks);
    out.push_str("</g>\n</svg>\n");
}

/// One node: its box, name, one or two secondary lines, and everything in its tooltip.
fn draw_node(out: &mut String, n: &Node, p: Place) {
    let (fill, stroke, dash) = if n.gone {
        ("#f5f5f5", "#9e9e9e", "4 3")
    } else {
        node_style(n.kind)
    };
    let mut title = format!("{} {}", n.kind.as_str(), n.name);
    for d in &n.details {
        title.push('\n');
        title.push_str(d);
    }
    let _ = write!(
        out,
        "<g class=\"node kind-{}{}\" data-key=\"{}\"><title>{}</title>",
        n.kind.as_str(),
        if n.gone { " gone" } else { "" },
        esc(&n.key),
        esc(&title)
    );
    let dash = if dash.is_empty() {
        String::new()
    } else {
        format!(" stroke-dasharray=\"{dash}\"")
    };
    let _ = write!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\" fill-opacity=\"0.9\"{dash}/>",
        p.x - p.w / 2,
        p.y - p.h / 2,
        p.w,
        p.h,
        if n.kind == Kind::Segment { 3 } else { 7 }
    );
    if n.kind == Kind::Segment {
        // Name and prefix, cut to the bar's width (MTU and the rest are in the tooltip).
        let label = match n.details.first() {
            Some(prefix) => format!("{} {prefix}", n.name),
            None => n.name.clone(),
        };
        let label = short(&label, (p.w / 7).max(4) as usize);
        let _ = write!(
            out,
            "<text class=\"name\" x=\"{}\" y=\"{}\">{}</text>",
            p.x - p.w / 2 + 4,
            p.y - BAR_H / 2 - 5,
            esc(&label)
        );
    } else {
        // Long names (Kubernetes ones) get a smaller font before they get cut.
        let name = local_name(n);
        let (class, max) = if name.chars().count() > 22 {
            ("name long", 30)
        } else {
            ("name", 24)
        };
        let _ = write!(
            out,
            "<text class=\"{class}\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            p.x,
            p.y - 9,
            esc(&short(name, max))
        );
        // Second line: the first detail that is not a GUID; third: the GUID, shortened.
        let first = n.details.iter().find(|d| !is_guid(d));
        let guid = n.guid.as_ref();
        let mut lines: Vec<String> = first.map(|d| short(d, 27)).into_iter().collect();
        if let Some(g) = guid {
            if *g != n.name {
                lines.push(format!("{}…", &g[..g.len().min(8)]));
            }
        } else if let Some(second) = n.details.iter().filter(|d| !is_guid(d)).nth(1) {
            lines.push(short(second, 27));
        }
        for (k, line) in lines.iter().enumerate() {
            let _ = write!(
                out,
                "<text class=\"detail\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                p.x,
                p.y + 5 + 12 * k as i32,
                esc(line)
            );
        }
    }
    out.push_str("</g>\n");
}

/// Where the line from the centre of box `b` toward `to` leaves the box.
fn edge_of(b: Place, to: (i32, i32)) -> (i32, i32) {
    let (dx, dy) = ((to.0 - b.x) as i64, (to.1 - b.y) as i64);
    if dx == 0 && dy == 0 {
        return (b.x, b.y);
    }
    // The smaller of the two scale factors (as fractions, to stay in integers).
    let (hw, hh) = ((b.w / 2) as i64, (b.h / 2) as i64);
    let (num, den) = if dy == 0 || (dx != 0 && hw * dy.abs() <= hh * dx.abs()) {
        (hw, dx.abs())
    } else {
        (hh, dy.abs())
    };
    if num >= den {
        return to;
    }
    (
        (b.x as i64 + dx * num / den) as i32,
        (b.y as i64 + dy * num / den) as i32,
    )
}

/// The polyline of a packet: the nodes it visits, routed along the layout tree; a segment is
/// drawn as a run along its bar from where the path comes down to where it leaves.
fn polyline(t: &Topology, l: &Layout, path: &PacketPath, off: i32) -> (Vec<usize>, Vec<(i32, i32)>) {
    let mut seq: Vec<usize> = Vec::new();
    for w in path.points.windows(2) {
        for n in t.route(w[0], w[1]) {
            if seq.last() != Some(&n) {
                seq.push(n);
            }
        }
    }
    if seq.is_empty() {
        seq.extend(path.points.first());
    }
    let mut pts: Vec<(i32, i32)> = Vec::new();
    for (k, &n) in seq.iter().enumerate() {
        let q = l.places[n];
        let mut add = |xy: (i32, i32)| {
            if pts.last() != Some(&xy) {
                pts.push(xy);
            }
        };
        if t.nodes[n].kind == Kind::Segment {
            let y = q.y + off / 4;
            let x_of = |m: Option<&usize>| m.map(|&m| l.places[m].x + off).unwrap_or(q.x + off);
            let inside = |x: i32| x.clamp(q.x - q.w / 2, q.x + q.w / 2);
            add((inside(x_of(k.checked_sub(1).and_then(|p| seq.get(p)))), y));
            add((inside(x_of(seq.get(k + 1))), y));
        } else {
            add((q.x + off, q.y + off / 2));
        }
    }
    (seq, pts)
}

fn draw_packet(
    out: &mut String,
    marks: &mut String,
    t: &Topology,
    l: &Layout,
    p: &Packet<'_>,
    path: &PacketPath,
    k: usize,
) {
    let d = &p.trace.disposition;
    let col = colour(d);
    // Each packet a few pixels off the previous one, so overlapping paths stay distinguishable.
    let off = (k % 7) as i32 * 4 - 12;
    let (seq, pts) = polyline(t, l, path, off);
    let class = if p.reply { "packet reply" } else { "packet request" };
    let _ = write!(
        out,
        "<g class=\"{class}\" id=\"{}\" data-packet=\"{}\" data-disposition=\"{}\"><title>{}: {}</title>",
        esc(&p.id),
        esc(&p.id),
        d.name(),
        if p.reply { "reply" } else { "request" },
        esc(&d.to_string())
    );
    let list: Vec<String> = pts.iter().map(|(x, y)| format!("{x},{y}")).collect();
    let _ = write!(out, "<polyline stroke=\"{col}\" points=\"{}\"/>", list.join(" "));
    out.push_str("</g>\n");
    // Start and end marks on the boxes' borders, above the boxes.
    let (Some(&first), Some(&last)) = (seq.first(), seq.last()) else {
        return;
    };
    let _ = write!(marks, "<g class=\"mark\" data-packet=\"{}\">", esc(&p.id));
    let start = edge_of(
        l.places[first],
        pts.get(1)
            .copied()
            .unwrap_or((l.places[first].x, l.places[first].y + 1)),
    );
    if seq.len() > 1 {
        let _ = write!(
            marks,
            "<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"{col}\"/>",
            start.0, start.1
        );
    }
    let before = if pts.len() > 1 {
        pts[pts.len() - 2]
    } else {
        (l.places[last].x, l.places[last].y - 1)
    };
    let (x, y) = if seq.len() == 1 {
        // Dropped where it started: mark the box's corner, clear of its text.
        let q = l.places[last];
        (q.x + q.w / 2 - 4, q.y - q.h / 2 + 4)
    } else {
        edge_of(l.places[last], before)
    };
    if path.dropped_at.is_some() {
        let _ = write!(
            marks,
            "<path class=\"drop-mark\" d=\"M{} {}L{} {}M{} {}L{} {}\" stroke=\"{col}\" stroke-width=\"4\" stroke-linecap=\"round\"/>",
            x - 7,
            y - 7,
            x + 7,
            y + 7,
            x - 7,
            y + 7,
            x + 7,
            y - 7
        );
    } else {
        let _ = write!(
            marks,
            "<circle cx=\"{x}\" cy=\"{y}\" r=\"6\" fill=\"#fff\" stroke=\"{col}\" stroke-width=\"2.5\"/>"
        );
    }
    marks.push_str("</g>\n");
}

/// `text` with every GUID the topology knows written as `name (GUID)`: names first in the step
/// list too.
fn name_guids(text: &str, names: &BTreeMap<&str, &str>) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if i + 36 <= b.len() && text.is_char_boundary(i + 36) && is_guid(&text[i..i + 36]) {
            let g = &text[i..i + 36];
            match names.get(g) {
                Some(name) => {
                    let _ = write!(out, "{name} ({g})");
                }
                None => out.push_str(g),
            }
            i += 36;
            continue;
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn guid_names(t: Option<&Topology>) -> BTreeMap<&str, &str> {
    t.into_iter()
        .flat_map(|t| t.nodes.iter())
        .filter_map(|n| {
            n.guid
                .as_deref()
                .filter(|g| *g != n.name)
                .map(|g| (g, n.name.as_str()))
        })
        .collect()
}

fn drop_rule(d: &Disposition) -> Option<(&str, &str)> {
    match d {
        Disposition::DeniedIn { layer, rule, .. } | Disposition::DeniedOut { layer, rule, .. } => {
            Some((layer, rule))
        }
        _ => None,
    }
}

/// One packet: a summary line (disposition, receiver, addresses as seen) and its hops, open for a
/// failed step and folded for a passed one.
fn trace_html(out: &mut String, p: &Packet<'_>, open: bool, names: &BTreeMap<&str, &str>) {
    let d = &p.trace.disposition;
    let label = &p.label;
    let _ = write!(
        out,
        "<details class=\"packet\"{} data-packet=\"{}\" data-disposition=\"{}\"><summary class=\"packet-head\"><span class=\"swatch\" style=\"background:{}\"></span>{} — {}",
        if open { " open=\"open\"" } else { "" },
        esc(&p.id),
        d.name(),
        colour(d),
        esc(label),
        esc(d.name())
    );
    if let Some(to) = &p.trace.delivered_to {
        let _ = write!(out, " to {}", esc(to));
    }
    if let Some(seen) = &p.trace.seen {
        let _ = write!(
            out,
            " <span class=\"mono\">(seen as {})</span>",
            esc(&seen.to_string())
        );
    }
    // Following the link picks this packet out on the topology (`:target`, no script).
    let _ = write!(out, " <a class=\"show\" href=\"#{}\">show path</a>", esc(&p.id));
    out.push_str("</summary>\n<ol class=\"hops\">\n");
    let dropped = !d.is_delivered();
    let last = p.trace.hops.len().saturating_sub(1);
    let rule = drop_rule(d);
    for (i, h) in p.trace.hops.iter().enumerate() {
        let drop_here = dropped && i == last;
        let _ = write!(
            out,
            "<li class=\"{}\">{} [{}]<ul>",
            if drop_here { "hop drop" } else { "hop" },
            esc(&h.node),
            esc(&name_guids(&h.port, names))
        );
        for s in &h.steps {
            let is_rule = drop_here
                && matches!((s, rule), (Step::Filter { layer, rule: r, action: Action::Block, .. }, Some((dl, dr))) if layer == dl && r == dr);
            let _ = write!(
                out,
                "<li class=\"{}\">{}</li>",
                if is_rule { "tstep drop-rule" } else { "tstep" },
                esc(&name_guids(&s.to_string(), names))
            );
        }
        out.push_str("</ul>");
        if drop_here {
            let _ = write!(out, "<p class=\"drop-note\">✗ {}</p>", esc(&d.to_string()));
        }
        out.push_str("</li>\n");
    }
    if dropped && p.trace.hops.is_empty() {
        let _ = writeln!(
            out,
            "<li class=\"hop drop\"><p class=\"drop-note\">✗ {}</p></li>",
            esc(&d.to_string())
        );
    }
    out.push_str("</ol></details>\n");
}

fn table_html(out: &mut String, t: &Table) {
    out.push_str("<table class=\"reach\"><tr><th>expected / observed</th>");
    for to in &t.to {
        let _ = write!(out, "<th>{}</th>", esc(to));
    }
    out.push_str("</tr>\n");
    for (i, f) in t.from.iter().enumerate() {
        let _ = write!(out, "<tr><th>{}</th>", esc(f));
        for j in 0..t.to.len() {
            let e = t.expected.get(i).and_then(|r| r.get(j)).copied().unwrap_or('?');
            let o = t.observed.get(i).and_then(|r| r.get(j)).copied().unwrap_or('?');
            let class = if e == o { "" } else { " class=\"mismatch\"" };
            let _ = write!(out, "<td{class}>{e} / {o}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn step_html(
    out: &mut String,
    sid: &str,
    file: &str,
    s: &StepReport,
    (pk, left_out): &(Vec<Packet<'_>>, usize),
    names: &BTreeMap<&str, &str>,
) {
    let ok = s.ok();
    let status = if ok { "pass" } else { "fail" };
    let _ = write!(
        out,
        "<div class=\"step {status}\" id=\"{sid}-step{}\" data-step=\"{}\"><h3>",
        s.index, s.index
    );
    // A step without expectations (`hnsim trace`'s packet) gets no pass/fail badge.
    if !s.checks.is_empty() || s.error.is_some() {
        let _ = write!(
            out,
            "<span class=\"badge {status}\">{}</span>",
            if ok { "✓" } else { "✗" }
        );
    }
    let at = if s.line == 0 {
        esc(file)
    } else {
        format!("{}:{}", esc(file), s.line)
    };
    let _ = writeln!(
        out,
        "step {} <span class=\"mono\">{at}</span> {}</h3>",
        s.index,
        esc(&s.label)
    );
    if let Some(e) = &s.error {
        let _ = writeln!(out, "<p class=\"error\">error: {}</p>", esc(e));
    }
    if !s.checks.is_empty() {
        out.push_str("<ul class=\"checks\">");
        // Failed checks first.
        for c in s
            .checks
            .iter()
            .filter(|c| !c.ok)
            .chain(s.checks.iter().filter(|c| c.ok))
        {
            let _ = write!(
                out,
                "<li class=\"check {}\">{} {}: expected {}, got {}</li>",
                if c.ok { "pass" } else { "fail" },
                if c.ok { "✓" } else { "✗" },
                esc(&c.what),
                esc(&c.expected),
                esc(&c.actual)
            );
        }
        out.push_str("</ul>\n");
    }
    if let Some(t) = &s.table {
        table_html(out, t);
    }
    for p in pk {
        // Open where there is something to look at: a failed step, or `trace`'s packet.
        trace_html(out, p, !s.ok() || s.checks.is_empty(), names);
    }
    if *left_out > 0 {
        let _ = writeln!(
            out,
            "<p class=\"meta\">… and {left_out} more packets, neither drawn nor listed (all are in --format json)</p>"
        );
    }
    out.push_str("</div>\n");
}

fn folder_of(file: &str) -> String {
    match std::path::Path::new(file).parent() {
        Some(p) if !p.as_os_str().is_empty() => p.display().to_string(),
        _ => ".".to_string(),
    }
}

fn scenario_html(out: &mut String, sid: &str, r: &ScenarioReport) {
    let ok = r.ok();
    let status = if ok { "pass" } else { "fail" };
    let _ = writeln!(
        out,
        "<section class=\"scenario {status}\" id=\"{sid}\" data-status=\"{status}\" data-file=\"{}\">",
        esc(&r.file)
    );
    let _ = writeln!(
        out,
        "<h2><span class=\"badge {status}\">{}</span>{}</h2>",
        if ok { "PASS" } else { "FAIL" },
        esc(&r.name)
    );
    let _ = write!(
        out,
        "<p class=\"meta\"><span class=\"mono\">{}</span> · seed {}",
        esc(&r.file),
        r.seed
    );
    if let Some(reference) = &r.reference {
        let _ = write!(out, " · {}", esc(reference));
    }
    out.push_str("</p>\n");
    if !r.inferred.is_empty() {
        out.push_str("<details><summary>inferred behaviour</summary><ul>");
        for i in &r.inferred {
            let _ = write!(out, "<li>{}</li>", esc(i));
        }
        out.push_str("</ul></details>\n");
    }
    if let Some(e) = &r.error {
        let _ = writeln!(out, "<p class=\"error\">error: {}</p>", esc(e));
    }
    // Failed steps first, then the passed steps that sent packets; the rest collapsed.
    let failed: Vec<&StepReport> = r.steps.iter().filter(|s| !s.ok()).collect();
    let traffic: Vec<&StepReport> = r
        .steps
        .iter()
        .filter(|s| s.ok() && (!s.exchanges.is_empty() || s.table.is_some()))
        .collect();
    let quiet: Vec<&StepReport> = r
        .steps
        .iter()
        .filter(|s| s.ok() && s.exchanges.is_empty() && s.table.is_none())
        .collect();
    let shown: Vec<&StepReport> = failed.iter().chain(&traffic).copied().collect();
    let pk: Vec<_> = shown.iter().map(|s| packets(sid, s)).collect();
    let all: Vec<&Packet<'_>> = pk.iter().flat_map(|(p, _)| p).collect();
    out.push_str("<div class=\"cols\">\n<div class=\"topology\">\n");
    match &r.topology {
        Some(t) => svg(out, t, &layout(t), &all),
        None => out.push_str("<p class=\"error\">no topology: the world could not be built</p>\n"),
    }
    out.push_str("</div>\n<div class=\"steps\">\n");
    let names = guid_names(r.topology.as_ref());
    for (s, pk) in shown.iter().zip(&pk) {
        step_html(out, sid, &r.file, s, pk, &names);
    }
    if !quiet.is_empty() {
        let _ = write!(
            out,
            "<details><summary>{} more steps passed</summary><ul>",
            quiet.len()
        );
        for s in quiet {
            let _ = write!(
                out,
                "<li>step {} <span class=\"mono\">:{}</span> {}</li>",
                s.index,
                s.line,
                esc(&s.label)
            );
        }
        out.push_str("</ul></details>\n");
    }
    out.push_str("</div>\n</div>\n</section>\n");
}

/// The report of `hnsim run`: totals, a table per folder, then every scenario (failed first).
pub fn report(reports: &[ScenarioReport]) -> String {
    page(reports, "hnsim report", true)
}

/// The page of `hnsim trace`: the scenario's topology after setup, the one packet drawn over it.
pub fn trace(setup: &ScenarioReport, label: String, ex: Exchange) -> String {
    let mut r = setup.clone();
    let mut step = StepReport::new(r.steps.len() + 1, 0, "trace", &label);
    step.exchanges.push(ex);
    r.steps.push(step);
    page(std::slice::from_ref(&r), "hnsim trace", false)
}

fn page(reports: &[ScenarioReport], title: &str, summary: bool) -> String {
    let mut out = String::from("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    let _ = writeln!(out, "<title>{}</title>", esc(title));
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>");
    let _ = write!(out, "<header><h1>{}</h1>", esc(title));
    if summary {
        let (p, f) = super::report::counts(reports);
        let _ = writeln!(
            out,
            "<p class=\"totals\"><span class=\"pass\">{p} passed</span>, <span class=\"fail\">{f} failed</span></p>"
        );
    }
    out.push_str("<p class=\"legend\">");
    for (name, c) in LEGEND {
        let _ = write!(
            out,
            "<span><span class=\"swatch\" style=\"background:{c}\"></span>{name}</span>"
        );
    }
    out.push_str("<span>dashed line: reply · ✗: where a packet was dropped · dashed box: remote endpoint (grey: deleted before the end)</span></p></header>\n");
    if summary {
        folder_table(&mut out, reports);
    }
    let order = (0..reports.len())
        .filter(|&i| !reports[i].ok())
        .chain((0..reports.len()).filter(|&i| reports[i].ok()));
    for i in order {
        scenario_html(&mut out, &format!("s{i}"), &reports[i]);
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// Per folder: counts and links, failed scenarios first.
fn folder_table(out: &mut String, reports: &[ScenarioReport]) {
    let mut folders: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, r) in reports.iter().enumerate() {
        folders.entry(folder_of(&r.file)).or_default().push(i);
    }
    out.push_str("<section id=\"summary\"><table class=\"folders\"><tr><th>folder</th><th>passed</th><th>failed</th><th>scenarios</th></tr>\n");
    for (folder, idx) in &folders {
        let failed = idx.iter().filter(|&&i| !reports[i].ok()).count();
        let _ = write!(
            out,
            "<tr><td class=\"mono\">{}</td><td>{}</td><td>{failed}</td><td>",
            esc(folder),
            idx.len() - failed
        );
        let ordered = idx
            .iter()
            .filter(|&&i| !reports[i].ok())
            .chain(idx.iter().filter(|&&i| reports[i].ok()));
        let links: Vec<String> = ordered
            .map(|&i| {
                format!(
                    "<a class=\"{}\" href=\"#s{i}\">{}</a>",
                    if reports[i].ok() { "pass" } else { "fail" },
                    esc(&reports[i].name)
                )
            })
            .collect();
        out.push_str(&links.join(", "));
        out.push_str("</td></tr>\n");
    }
    out.push_str("</table></section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivered() -> Trace {
        Trace {
            hops: Vec::new(),
            disposition: Disposition::Delivered,
            delivered_to: None,
            seen: None,
        }
    }

    #[test]
    fn a_bulk_step_draws_at_most_the_cap_and_counts_the_rest() {
        let mut step = trace_free_step();
        step.exchanges = (0..300)
            .map(|_| Exchange {
                request: delivered(),
                reply: None,
            })
            .collect();
        let (pk, left_out) = packets("s0", &step);
        assert_eq!(pk.len(), MAX_PACKETS_PER_STEP);
        assert_eq!(left_out, 300 - MAX_PACKETS_PER_STEP);
        assert_eq!(pk[0].id, "s0-7-1-req");
        assert_eq!(pk[0].label, "packet 1 request");
        let mut out = String::new();
        step_html(&mut out, "s0", "f.yaml", &step, &(pk, left_out), &BTreeMap::new());
        assert!(out.contains("… and 44 more packets"), "{out}");
    }

    fn trace_free_step() -> StepReport {
        StepReport::new(7, 3, "connect", "connect")
    }

    #[test]
    fn known_guids_are_named_first_and_text_is_escaped() {
        let g = "A5EB1335-C121-4E21-8874-83A02C52151B";
        let names: BTreeMap<&str, &str> = [(g, "web")].into_iter().collect();
        assert_eq!(
            name_guids(&format!("lb {g}: 10.96.0.50:80 -> backend x ({g})"), &names),
            format!("lb web ({g}): 10.96.0.50:80 -> backend x (web ({g}))")
        );
        let other = "B5EB1335-C121-4E21-8874-83A02C52151B";
        assert_eq!(name_guids(other, &names), other);
        assert_eq!(name_guids("é→ x", &names), "é→ x");
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
