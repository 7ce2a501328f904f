//! CIF 1.1 reader (Hall, Allen & Brown, Acta Cryst. A47 (1991) 655; the
//! CIF 1.1 syntax specification): data blocks, save frames skipped, loops,
//! quoted values, `;` text fields, `#` comments. Tags are matched
//! case-insensitively and DDL2 names (`_space_group_symop.operation_xyz`)
//! are folded onto their DDL1 spelling (`_space_group_symop_operation_xyz`).
//! Every value keeps its line so errors can point at it.

use std::collections::HashMap;

/// One value with the line it started on (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct CifValue {
    pub text: String,
    pub line: usize,
    /// Whether it was quoted or a text field (then `?`/`.` are literal).
    pub quoted: bool,
}

impl CifValue {
    /// `?` (unknown) or `.` (inapplicable), unquoted.
    pub fn is_null(&self) -> bool {
        !self.quoted && (self.text == "?" || self.text == ".")
    }

    /// The number, its standard uncertainty in parentheses dropped
    /// (`5.0807(2)` → 5.0807). `None` for `?`, `.` or non-numbers.
    pub fn number(&self) -> Option<f64> {
        if self.is_null() {
            return None;
        }
        parse_number(&self.text)
    }
}

/// A CIF number: `1.234(5)`, `-0.5`, `1e-3`; also `1/3`-style fractions,
/// which some writers use for special positions.
pub fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    let s = match s.find('(') {
        Some(i) if s.ends_with(')') => &s[..i],
        Some(_) => return None,
        None => s,
    };
    if let Some((a, b)) = s.split_once('/') {
        let (a, b): (f64, f64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        return (b != 0.0).then(|| a / b);
    }
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

/// A loop: its tags (normalised) and rows of values.
#[derive(Debug, Clone, Default)]
pub struct CifLoop {
    pub tags: Vec<String>,
    pub rows: Vec<Vec<CifValue>>,
}

impl CifLoop {
    pub fn column(&self, tag: &str) -> Option<usize> {
        self.tags.iter().position(|t| t == tag)
    }
}

/// One `data_` block.
#[derive(Debug, Clone, Default)]
pub struct CifBlock {
    pub name: String,
    /// The line of `data_NAME`.
    pub line: usize,
    /// Single-valued items.
    pub items: HashMap<String, CifValue>,
    pub loops: Vec<CifLoop>,
}

impl CifBlock {
    /// A single item, or the first row of a looped one.
    pub fn get(&self, tag: &str) -> Option<&CifValue> {
        let tag = normalize_tag(tag);
        self.items.get(&tag).or_else(|| {
            self.loops
                .iter()
                .find_map(|l| l.column(&tag).and_then(|c| l.rows.first().map(|r| &r[c])))
        })
    }

    /// The loop holding `tag`.
    pub fn find_loop(&self, tag: &str) -> Option<&CifLoop> {
        let tag = normalize_tag(tag);
        self.loops.iter().find(|l| l.column(&tag).is_some())
    }

    /// All values of `tag` (a loop column, or a one-element list for an item).
    pub fn values(&self, tag: &str) -> Vec<&CifValue> {
        let t = normalize_tag(tag);
        if let Some(l) = self.find_loop(&t)
            && let Some(c) = l.column(&t)
        {
            return l.rows.iter().map(|r| &r[c]).collect();
        }
        self.items.get(&t).into_iter().collect()
    }
}

/// Lower case, DDL2 `.` folded to `_`.
pub fn normalize_tag(tag: &str) -> String {
    tag.to_ascii_lowercase().replace('.', "_")
}

/// A syntax error at a line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CifSyntaxError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Data(String),
    Loop,
    Save,
    Global,
    Stop,
    Tag(String),
    Value(String, bool),
}

fn tokenize(text: &str) -> Result<Vec<(Tok, usize)>, CifSyntaxError> {
    let mut toks = Vec::new();
    let mut lines = crate::io::split_lines(text).enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let ln = i + 1;
        if let Some(rest) = line.strip_prefix(';') {
            // Text field: up to the next line that starts with ';'.
            let mut body = rest.to_string();
            let mut closed = false;
            for (_, l) in lines.by_ref() {
                if l.starts_with(';') {
                    closed = true;
                    break;
                }
                body.push('\n');
                body.push_str(l);
            }
            if !closed {
                return Err(CifSyntaxError {
                    line: ln,
                    message: "text field (';') is never closed".into(),
                });
            }
            toks.push((Tok::Value(body.trim().to_string(), true), ln));
            continue;
        }
        let b = line.as_bytes();
        let mut p = 0;
        while p < b.len() {
            let c = b[p];
            if c.is_ascii_whitespace() {
                p += 1;
                continue;
            }
            if c == b'#' {
                break;
            }
            if c == b'\'' || c == b'"' {
                // A quote closes only when followed by whitespace or the end.
                let mut q = p + 1;
                let end = loop {
                    if q >= b.len() {
                        return Err(CifSyntaxError {
                            line: ln,
                            message: format!("unterminated {} quote", c as char),
                        });
                    }
                    if b[q] == c && (q + 1 == b.len() || b[q + 1].is_ascii_whitespace()) {
                        break q;
                    }
                    q += 1;
                };
                toks.push((Tok::Value(line[p + 1..end].to_string(), true), ln));
                p = end + 1;
                continue;
            }
            let start = p;
            while p < b.len() && !b[p].is_ascii_whitespace() {
                p += 1;
            }
            let word = &line[start..p];
            let lower = word.to_ascii_lowercase();
            let tok = if c == b'_' {
                Tok::Tag(normalize_tag(word))
            } else if lower.starts_with("data_") {
                Tok::Data(word[5..].to_string())
            } else if lower == "loop_" {
                Tok::Loop
            } else if lower.starts_with("save_") {
                Tok::Save
            } else if lower == "global_" {
                Tok::Global
            } else if lower == "stop_" {
                Tok::Stop
            } else {
                Tok::Value(word.to_string(), false)
            };
            toks.push((tok, ln));
        }
    }
    Ok(toks)
}

/// Parse CIF text into its data blocks. Items before the first `data_`
/// are an error; save frames are skipped (they hold dictionary definitions).
pub fn parse_cif(text: &str) -> Result<Vec<CifBlock>, CifSyntaxError> {
    let toks = tokenize(text)?;
    let mut blocks: Vec<CifBlock> = Vec::new();
    let mut i = 0;
    let mut in_save = false;
    while i < toks.len() {
        let (tok, ln) = (&toks[i].0, toks[i].1);
        match tok {
            Tok::Data(name) => {
                blocks.push(CifBlock {
                    name: name.clone(),
                    line: ln,
                    ..CifBlock::default()
                });
                i += 1;
            }
            Tok::Save => {
                in_save = !in_save;
                i += 1;
            }
            Tok::Global | Tok::Stop => i += 1,
            _ if in_save => i += 1,
            Tok::Tag(tag) => {
                let block = blocks.last_mut().ok_or_else(|| CifSyntaxError {
                    line: ln,
                    message: format!("{tag} before any data_ block"),
                })?;
                match toks.get(i + 1) {
                    Some((Tok::Value(v, q), vl)) => {
                        block.items.insert(
                            tag.clone(),
                            CifValue {
                                text: v.clone(),
                                line: *vl,
                                quoted: *q,
                            },
                        );
                        i += 2;
                    }
                    _ => {
                        return Err(CifSyntaxError {
                            line: ln,
                            message: format!("{tag} has no value"),
                        });
                    }
                }
            }
            Tok::Loop => {
                let block = blocks.last_mut().ok_or_else(|| CifSyntaxError {
                    line: ln,
                    message: "loop_ before any data_ block".into(),
                })?;
                i += 1;
                let mut lp = CifLoop::default();
                while let Some((Tok::Tag(t), _)) = toks.get(i) {
                    lp.tags.push(t.clone());
                    i += 1;
                }
                if lp.tags.is_empty() {
                    return Err(CifSyntaxError {
                        line: ln,
                        message: "loop_ without tags".into(),
                    });
                }
                let mut vals = Vec::new();
                while let Some((Tok::Value(v, q), vl)) = toks.get(i) {
                    vals.push(CifValue {
                        text: v.clone(),
                        line: *vl,
                        quoted: *q,
                    });
                    i += 1;
                }
                let n = lp.tags.len();
                if vals.len() % n != 0 {
                    let at = vals.last().map_or(ln, |v| v.line);
                    return Err(CifSyntaxError {
                        line: at,
                        message: format!(
                            "loop of {} ({n} tags) has {} values, not a multiple of {n}",
                            lp.tags[0],
                            vals.len()
                        ),
                    });
                }
                lp.rows = vals.chunks(n).map(|c| c.to_vec()).collect();
                block.loops.push(lp);
            }
            Tok::Value(v, _) => {
                return Err(CifSyntaxError {
                    line: ln,
                    message: format!("value '{v}' without a tag"),
                });
            }
        }
    }
    if blocks.is_empty() {
        return Err(CifSyntaxError {
            line: 1,
            message: "no data_ block".into(),
        });
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_quotes_text_fields_and_loops() {
        let text = "# comment\ndata_test\n_cell_length_a 5.0807(2)\n_title 'O'Brien's cell'\n\
                    _note\n;\nline one\nline two\n;\nloop_\n_atom_site_label\n_atom_site_fract_x\n\
                    Fe1 0.5 O1 '1/3' # trailing\n_Space_Group.IT_number 62\n";
        let b = &parse_cif(text).unwrap()[0];
        assert_eq!(b.name, "test");
        assert_eq!(b.get("_cell_length_a").unwrap().number(), Some(5.0807));
        assert_eq!(b.get("_title").unwrap().text, "O'Brien's cell");
        assert_eq!(b.get("_note").unwrap().text, "line one\nline two");
        assert_eq!(
            b.get("_space_group_it_number").unwrap().number(),
            Some(62.0)
        );
        let xs: Vec<f64> = b
            .values("_atom_site_fract_x")
            .iter()
            .filter_map(|v| v.number())
            .collect();
        assert_eq!(xs, vec![0.5, 1.0 / 3.0]);
        assert_eq!(b.values("_atom_site_label")[1].line, 13);
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse_cif("data_x\nloop_\n_a\n_b\n1 2\n3\n").unwrap_err();
        assert_eq!(e.line, 6);
        let e = parse_cif("data_x\n_a 'open\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse_cif("data_x\n_a\n;\nnever closed\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(parse_cif("_a 1\n").is_err());
    }
}
