//! Column labels and metadata from the header of a column file: the legend
//! dialects spelled out explicitly (GSE EpicsScan, XSD, SSRL, CLS, KEK-PF)
//! and, for the rest, the line just above the numbers (Larch `read_ascii`).

use std::convert::identity;

use super::{COMMENT_CHARS, ColumnTable, OrEmpty, number};

/// Strip comment markers (`#`, `#L`, `#C`, `;`…) from a header line.
pub(super) fn strip_comment(line: &str) -> &str {
    let t = line.trim();
    let t = t
        .strip_prefix("#L")
        .or_else(|| t.strip_prefix("#C "))
        .map_or(t, identity);
    t.trim_start_matches(COMMENT_CHARS).trim()
}

/// A line made only of separator characters (`#-----`, `;=====`).
fn is_separator(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| "-=/*_~+#;".contains(c) || c.is_whitespace())
}

/// Split on runs of two or more spaces (SPEC `#L` labels may contain one
/// space, e.g. `Counter 27`).
fn split_wide(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut spaces = 0;
    for c in s.chars() {
        if c == '\t' || (c == ' ' && spaces >= 1) {
            spaces = 2;
        } else if c == ' ' {
            spaces = 1;
        } else {
            if spaces >= 2 && !cur.trim().is_empty() {
                out.push(cur.trim().to_owned());
                cur.clear();
            }
            if spaces == 1 {
                cur.push(' ');
            }
            spaces = 0;
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_owned());
    }
    out
}

/// GSE EpicsScan legend: `; P1 = {Energy} --> PV` lines after
/// `; column labels:`.
fn gse_legend(header: &[&str]) -> Vec<String> {
    let mut found = false;
    let mut labels = Vec::new();
    for line in header {
        let t = strip_comment(line);
        if !found {
            found = t.contains("column labels:");
            continue;
        }
        if !t.contains("-->") {
            break;
        }
        if let (Some(a), Some(b)) = (t.find('{'), t.find('}'))
            && let Some(name) = t.get(a + 1..b)
        {
            labels.push(name.trim().to_owned());
        }
    }
    labels
}

/// APS XSD (20BM/20ID/9BM LabVIEW): `#  1) Mono Energy *  11) XMAP4:TiKa_Sum`
/// legend, possibly two entries per line.
fn xsd_legend(header: &[&str]) -> Vec<String> {
    let mut entries: Vec<(usize, String)> = Vec::new();
    let mut found = false;
    for line in header {
        let t = strip_comment(line);
        if !found {
            found = t.contains("readable list of column");
            continue;
        }
        if t.len() < 2 || !t.contains(')') {
            break;
        }
        // Positions of "N)" markers: digits followed by ')' at a word start.
        let bytes = t.as_bytes();
        let mut marks: Vec<(usize, usize, usize)> = Vec::new(); // (start, after, number)
        let mut k = 0;
        while k < bytes.len() {
            let at_word = k == 0 || bytes.get(k - 1).is_some_and(|b| *b == b' ');
            if at_word && bytes.get(k).is_some_and(u8::is_ascii_digit) {
                let mut e = k;
                while bytes.get(e).is_some_and(u8::is_ascii_digit) {
                    e += 1;
                }
                if bytes.get(e) == Some(&b')')
                    && let Some(n) = t.get(k..e).and_then(|s| s.parse::<usize>().ok())
                {
                    marks.push((k, e + 1, n));
                    k = e + 1;
                    continue;
                }
            }
            k += 1;
        }
        for (m, &(_, after, n)) in marks.iter().enumerate() {
            let end = marks.get(m + 1).map_or(t.len(), |x| x.0);
            let name = t.get(after..end).or_empty().trim();
            let name = name.trim_end_matches('*').trim();
            entries.push((n, name.to_owned()));
        }
    }
    entries.sort_by_key(|e| e.0);
    entries.into_iter().map(|e| e.1).collect()
}

/// SSRL EXAFS Data Collector: one label per line after `Data:`.
fn ssrl_legend(header: &[&str]) -> Vec<String> {
    let mut found = false;
    let mut labels = Vec::new();
    for line in header {
        let t = line.trim();
        if !found {
            found = t == "Data:";
            continue;
        }
        if t.is_empty() {
            break;
        }
        labels.push(t.to_owned());
    }
    labels
}

/// CLS HXMA: the `#(1)` line holding `$(Name)` templates names the columns;
/// the four detectors are I0, It (I1), Iref (I2) and fluorescence in the
/// HXMA convention, so they are named that way for the μ recipes.
fn cls_legend(header: &[&str]) -> Vec<String> {
    let mut labels = Vec::new();
    for line in header {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("#(1)")
            && rest.contains("$(")
        {
            labels = rest
                .split(|c: char| "\"#$()\t".contains(c) || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .map(|w| match w {
                    "Detector1" => "I0".to_owned(),
                    "Detector2" => "It".to_owned(),
                    "Detector3" => "Iref".to_owned(),
                    "Detector4" => "If".to_owned(),
                    other => other.to_owned(),
                })
                .collect();
        }
    }
    labels
}

/// KEK-PF (9809 format): angle (drive, read), time, then detector channels
/// whose role is given by the `Mode` row: 1 = I0, 2 = transmitted, 3 =
/// fluorescence (as in the "Transmission( 2)" / "Fluorescence( 3)" header).
/// The `Offset` row (dark counts) is kept in the header, not subtracted,
/// as Larch does.
fn kekpf_legend(header: &[&str], ncols: usize) -> Vec<String> {
    let mut labels = vec![
        "angle_drive".to_owned(),
        "angle_read".to_owned(),
        "time".to_owned(),
    ];
    let modes: Vec<&str> = header
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with("Mode"))
        .map(|l| l.split_whitespace().skip(1).collect())
        .or_empty();
    for j in 3..ncols {
        // `Mode` and `Offset` rows have no entry for the first column.
        let name = match modes.get(j - 1).copied() {
            Some("1") => "i0".to_owned(),
            Some("2") => "it".to_owned(),
            Some("3") => "if".to_owned(),
            _ => format!("ch{}", j - 2),
        };
        labels.push(name);
    }
    labels
}

/// APS 12BM: `#C 1_Energy (keV) 2_sec 3_mononrg …`: numbered `N_name` words.
fn numbered_words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .filter_map(|w| {
            let (n, name) = w.split_once('_')?;
            n.parse::<usize>().ok()?;
            Some(name.to_owned())
        })
        .collect()
}

/// Labels from the line just above the data, Larch style, trying the
/// whitespace, double-space and `*` splits used by the various writers.
fn generic_labels(last: &str, ncols: usize) -> Vec<String> {
    let s = strip_comment(last);
    if is_separator(s) {
        return Vec::new();
    }
    let numbered = numbered_words(s);
    if numbered.len() == ncols {
        return numbered;
    }
    let cleaned: String = s
        .chars()
        .map(|c| if "\t,#@%&\"'".contains(c) { ' ' } else { c })
        .collect();
    let words: Vec<String> = cleaned.split_whitespace().map(str::to_owned).collect();
    if words.len() <= ncols {
        return words;
    }
    let wide = split_wide(s);
    if wide.len() == ncols {
        return wide;
    }
    if s.contains('*') {
        let mut parts: Vec<String> = s.split('*').map(|p| p.trim().to_owned()).collect();
        if let Some(last) = parts.pop() {
            parts.extend(last.split_whitespace().map(str::to_owned));
        }
        parts.retain(|p| !p.is_empty());
        if parts.len() == ncols {
            return parts;
        }
    }
    Vec::new()
}

/// Column labels for a table whose header is `header` (lines before the
/// data, raw).
pub(super) fn header_labels(header: &[&str], ncols: usize) -> Vec<String> {
    let first = header
        .iter()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .or_empty();
    let first_lc = first.to_ascii_lowercase();
    let dialect = if first_lc.starts_with("; epics scan") {
        gse_legend(header)
    } else if first_lc.contains("labview control panel") {
        xsd_legend(header)
    } else if first_lc.contains("ssrl") && first_lc.contains("exafs data collector") {
        ssrl_legend(header)
    } else if first_lc.contains("cls data acquisition") {
        cls_legend(header)
    } else if first_lc.contains("kek-pf") {
        kekpf_legend(header, ncols)
    } else {
        Vec::new()
    };
    if dialect.len() >= 2 {
        return dialect;
    }
    let last = header
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .copied()
        .or_empty();
    generic_labels(last, ncols)
}

/// `KEY= value`, `KEY: value` header pairs (single-word keys, as Larch), plus
/// FDMNES's `v1 v2 … = name1, name2, …` line.
pub(super) fn header_metadata(header: &[&str], table: &mut ColumnTable) {
    for line in header {
        let h = strip_comment(line);
        if h.is_empty() {
            continue;
        }
        let split = h.split_once(':').or_else(|| h.split_once('='));
        let Some((key, val)) = split else { continue };
        let key = key.trim();
        if !key.is_empty() && !key.contains(char::is_whitespace) {
            table
                .metadata
                .entry(key.to_owned())
                .or_insert_with(|| val.trim().to_owned());
        } else if let Some((vals, names)) = h.split_once(" = ") {
            let vals: Vec<&str> = vals.split_whitespace().collect();
            let names: Vec<&str> = names.split(',').map(str::trim).collect();
            if vals.len() == names.len() && vals.iter().all(|v| number(v).is_some()) {
                for (n, v) in names.iter().zip(&vals) {
                    table.metadata.insert((*n).to_owned(), (*v).to_owned());
                }
            }
        }
    }
}
