//! A minimal SVG writer for the report's plots: shapes and text, escaped, and a log axis.

use std::fmt::Write;

/// An SVG document being drawn, in pixels, origin at the top left.
pub struct Svg {
    body: String,
    width: f64,
    height: f64,
}

impl Svg {
    pub fn new(width: f64, height: f64) -> Svg {
        let body = format!("<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        Svg { body, width, height }
    }

    pub fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str, width: f64) {
        let _ = writeln!(
            self.body,
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{stroke}\" stroke-width=\"{width}\"/>"
        );
    }

    /// A filled rectangle with a tooltip (`title`, shown on hover in a browser).
    pub fn rect(&mut self, (x, y): (f64, f64), (w, h): (f64, f64), fill: &str, title: Option<&str>) {
        let _ = write!(
            self.body,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\""
        );
        match title {
            Some(t) => {
                let _ = writeln!(self.body, "><title>{}</title></rect>", escape(t));
            }
            None => self.body.push_str("/>\n"),
        }
    }

    pub fn circle(&mut self, (x, y): (f64, f64), r: f64, fill: &str, title: &str) {
        let _ = writeln!(
            self.body,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r}\" fill=\"{fill}\" stroke=\"black\" stroke-width=\"0.8\"><title>{}</title></circle>",
            escape(title)
        );
    }

    /// Text at `(x, y)` (the baseline); `anchor` is `start`, `middle` or `end`.
    pub fn text(&mut self, (x, y): (f64, f64), size: f64, anchor: &str, text: &str) {
        let _ = writeln!(
            self.body,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\" text-anchor=\"{anchor}\">{}</text>",
            escape(text)
        );
    }

    /// Text turned 90 degrees counter-clockwise around `(x, y)`, for a vertical axis title.
    pub fn vertical_text(&mut self, (x, y): (f64, f64), size: f64, text: &str) {
        let _ = writeln!(
            self.body,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\" text-anchor=\"middle\" transform=\"rotate(-90 {x:.1} {y:.1})\">{}</text>",
            escape(text)
        );
    }

    /// The finished document.
    pub fn finish(self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\">\n{}</svg>\n",
            self.body,
            w = self.width,
            h = self.height
        )
    }
}

/// Text with the five XML special characters escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A base-10 logarithmic axis from the decade at or below `min` to the one at or above `max`,
/// mapped onto pixels `from..to` (which may run backwards, as a vertical axis does).
#[derive(Clone, Copy, Debug)]
pub struct LogAxis {
    lo: f64,
    hi: f64,
    from: f64,
    to: f64,
}

impl LogAxis {
    /// `min` and `max` must be positive (non-positive values are clamped to a tiny number).
    pub fn new(min: f64, max: f64, from: f64, to: f64) -> LogAxis {
        let lo = min.max(1e-300).log10().floor();
        let hi = max.max(min).max(1e-300).log10().ceil().max(lo + 1.0);
        LogAxis { lo, hi, from, to }
    }

    pub fn pixel(&self, v: f64) -> f64 {
        let t = (v.max(1e-300).log10() - self.lo) / (self.hi - self.lo);
        self.from + t * (self.to - self.from)
    }

    /// Tick values: 1, 2 and 5 times each power of ten inside the axis; `true` marks a decade.
    pub fn ticks(&self) -> Vec<(f64, bool)> {
        let mut out = Vec::new();
        for e in self.lo as i32..=self.hi as i32 {
            for m in [1.0, 2.0, 5.0] {
                let v = m * 10f64.powi(e);
                if v.log10() <= self.hi + 1e-9 {
                    out.push((v, m == 1.0));
                }
            }
        }
        out
    }
}

/// A tick label: `0.01`, `0.5`, `20`, `1000`, without trailing zeros.
pub fn tick_label(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_the_document_is_closed() {
        let mut svg = Svg::new(100.0, 50.0);
        svg.text((1.0, 2.0), 10.0, "start", "a<b & \"c\"");
        svg.rect((0.0, 0.0), (5.0, 5.0), "#123456", Some("x > y"));
        let doc = svg.finish();
        assert!(doc.contains(">a&lt;b &amp; &quot;c&quot;</text>"), "{doc}");
        assert!(doc.contains("<title>x &gt; y</title></rect>"));
        assert!(doc.starts_with("<?xml") && doc.ends_with("</svg>\n"));
        assert!(doc.contains("viewBox=\"0 0 100 50\""));
    }

    #[test]
    fn log_axis_maps_decades_evenly() {
        let axis = LogAxis::new(3.0, 400.0, 0.0, 300.0);
        // Decades 1..1000 over 300 px: 100 px each.
        assert!((axis.pixel(1.0) - 0.0).abs() < 1e-9);
        assert!((axis.pixel(10.0) - 100.0).abs() < 1e-9);
        assert!((axis.pixel(1000.0) - 300.0).abs() < 1e-9);
        let ticks = axis.ticks();
        assert_eq!(ticks.first(), Some(&(1.0, true)));
        assert_eq!(ticks.last(), Some(&(1000.0, true)));
        assert_eq!(ticks.len(), 10);
        let down = LogAxis::new(0.5, 0.5, 200.0, 0.0);
        assert!((down.pixel(0.1) - 200.0).abs() < 1e-9 && (down.pixel(1.0) - 0.0).abs() < 1e-9);
        assert_eq!(
            (tick_label(0.05), tick_label(20.0), tick_label(1.0)),
            ("0.05".into(), "20".into(), "1".into())
        );
    }
}
