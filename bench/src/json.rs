//! The report's JSON records, written by hand (a flat array of flat objects needs no library).

use std::fmt::Write;

/// One measured layer x ISA x algorithm.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub layer: String,
    pub isa: String,
    pub algorithm: String,
    /// Whether the planner selects this algorithm for the layer on this ISA.
    pub selected: bool,
    pub gflops: f64,
    pub peak_gflops: f64,
    pub percent_of_peak: f64,
    /// Direct's time over this algorithm's on the same layer and ISA (where direct runs it).
    pub speedup_vs_direct: Option<f64>,
    /// GFLOP/s over the same algorithm's on the report's first ISA (where it ran there).
    pub vs_first_isa: Option<f64>,
    /// `max |y - ref| / max |ref|` against the f64 reference (measured for Winograd).
    pub max_rel_error: Option<f64>,
}

/// The records as a JSON array, one object per line.
pub fn to_json(records: &[Record]) -> String {
    let mut out = String::from("[\n");
    for (i, r) in records.iter().enumerate() {
        let sep = if i + 1 < records.len() { "," } else { "" };
        // Writing into a String cannot fail.
        let _ = writeln!(
            out,
            "  {{\"layer\": {}, \"isa\": {}, \"algorithm\": {}, \"selected\": {}, \"gflops\": {}, \"peak_gflops\": {}, \"percent_of_peak\": {}, \"speedup_vs_direct\": {}, \"vs_first_isa\": {}, \"max_rel_error\": {}}}{sep}",
            string(&r.layer),
            string(&r.isa),
            string(&r.algorithm),
            r.selected,
            number(r.gflops),
            number(r.peak_gflops),
            number(r.percent_of_peak),
            r.speedup_vs_direct.map_or("null".to_string(), number),
            r.vs_first_isa.map_or("null".to_string(), number),
            r.max_rel_error.map_or("null".to_string(), |e| if e.is_finite() { format!("{e:.3e}") } else { "null".into() }),
        );
    }
    out.push(']');
    out.push('\n');
    out
}

/// A JSON string literal: quotes, backslashes and control characters escaped.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number; NaN and infinities, which JSON cannot hold, become `null`.
pub(crate) fn number(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "null".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_serialize_exactly() {
        let r = Record {
            layer: "resnet50/3x3/64@56".into(),
            isa: "avx2".into(),
            algorithm: "direct".into(),
            selected: true,
            gflops: 81.25,
            peak_gflops: 100.0,
            percent_of_peak: 81.25,
            speedup_vs_direct: None,
            vs_first_isa: None,
            max_rel_error: None,
        };
        let bad = Record {
            layer: "a\"b\\c\u{1}".into(),
            gflops: f64::NAN,
            speedup_vs_direct: Some(2.5),
            vs_first_isa: Some(0.5),
            selected: false,
            max_rel_error: Some(2.5e-6),
            ..r.clone()
        };
        assert_eq!(
            to_json(&[r, bad]),
            "[\n  {\"layer\": \"resnet50/3x3/64@56\", \"isa\": \"avx2\", \"algorithm\": \"direct\", \"selected\": true, \"gflops\": 81.250, \"peak_gflops\": 100.000, \"percent_of_peak\": 81.250, \"speedup_vs_direct\": null, \"vs_first_isa\": null, \"max_rel_error\": null},\n  {\"layer\": \"a\\\"b\\\\c\\u0001\", \"isa\": \"avx2\", \"algorithm\": \"direct\", \"selected\": false, \"gflops\": null, \"peak_gflops\": 100.000, \"percent_of_peak\": 81.250, \"speedup_vs_direct\": 2.500, \"vs_first_isa\": 0.500, \"max_rel_error\": 2.500e-6}\n]\n"
        );
        assert_eq!(to_json(&[]), "[\n]\n");
    }
}
