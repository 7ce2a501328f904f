//! A small XML reader for instrument files (`.xrdml`, the XML inside
//! `.brml`): elements, attributes, text, CDATA, comments, processing
//! instructions and a DOCTYPE skipped, the five predefined entities and
//! character references. Namespaces are dropped (`xsi:type` → `type`).
//! Every element remembers its line, so errors can point at it.
//!
//! Bounds: at most [`MAX_DEPTH`] levels and [`MAX_ELEMENTS`] elements, so a
//! document of empty elements (`<a/>` is 4 bytes of input but ~150 bytes
//! of tree) cannot turn a few hundred MB of text into gigabytes of memory.

use crate::io::ParseError;

/// Deeper nesting is refused (instrument files nest < 20 levels).
const MAX_DEPTH: usize = 256;

/// More elements are refused: a `.brml` has one `<Datum>` per step, and
/// scans have at most ~10⁵ steps; 10⁶ elements take ~150 MB.
pub(crate) const MAX_ELEMENTS: usize = 1_000_000;

#[derive(Debug, Clone, Default)]
pub(crate) struct Element {
    /// Local name, without a namespace prefix.
    pub name: String,
    pub attrs: Vec<(String, String)>,
    /// The element's own text (child elements' text excluded).
    pub text: String,
    /// 1-based line of the start tag.
    pub line: usize,
    pub children: Vec<Element>,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
    pub fn children_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Element> {
        self.children.iter().filter(move |c| c.name == name)
    }
    /// First descendant (depth first, document order) named `name`.
    pub fn find(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c)
            } else {
                c.find(name)
            }
        })
    }
    /// Every descendant named `name`, in document order.
    pub fn find_all<'s>(&'s self, name: &str, out: &mut Vec<&'s Element>) {
        for c in &self.children {
            if c.name == name {
                out.push(c);
            }
            c.find_all(name, out);
        }
    }
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
    line: usize,
    file: &'a str,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }
    /// Move `n` bytes on, counting newlines.
    fn advance(&mut self, n: usize) {
        let end = (self.pos + n).min(self.s.len());
        self.line += self
            .s
            .get(self.pos..end)
            .map_or(0, |t| t.matches('\n').count());
        self.pos = end;
    }
    fn err(&self, field: &str, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.file, msg)
            .at_line(self.line)
            .field(field)
    }
    /// Skip past `end`, or fail naming what was left open.
    fn skip_past(&mut self, end: &str, what: &str) -> Result<&'a str, ParseError> {
        let Some(i) = self.rest().find(end) else {
            return Err(self.err("xml", format!("unterminated {what}")));
        };
        let inner = self.rest().get(..i).unwrap_or("");
        self.advance(i + end.len());
        Ok(inner)
    }
    fn skip_ws(&mut self) {
        let n = self.rest().len() - self.rest().trim_start().len();
        self.advance(n);
    }
    fn name(&mut self) -> &'a str {
        let r = self.rest();
        let n = r
            .find(|c: char| c.is_whitespace() || matches!(c, '>' | '/' | '=' | '<'))
            .unwrap_or(r.len());
        self.advance(n);
        r.get(..n).unwrap_or("")
    }
}

/// Replace entity and character references.
fn unescape(s: &str, c: &Cursor) -> Result<String, ParseError> {
    if !s.contains('&') {
        return Ok(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(rest.get(..i).unwrap_or(""));
        rest = rest.get(i + 1..).unwrap_or("");
        let Some(end) = rest.find(';') else {
            return Err(c.err("xml", "'&' without ';'"));
        };
        let ent = rest.get(..end).unwrap_or("");
        let ch = match ent {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => ent
                .strip_prefix("#x")
                .or_else(|| ent.strip_prefix("#X"))
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| ent.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        let Some(ch) = ch else {
            return Err(c.err("xml", format!("unknown entity '&{ent};'")));
        };
        out.push(ch);
        rest = rest.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    Ok(out)
}

/// Parse a whole document into its root element.
pub(crate) fn parse(text: &str, file: &str) -> Result<Element, ParseError> {
    let mut c = Cursor {
        s: text.strip_prefix('\u{feff}').unwrap_or(text),
        pos: 0,
        line: 1,
        file,
    };
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut n_elements = 0usize;
    loop {
        let r = c.rest();
        let lt = r.find('<').unwrap_or(r.len());
        let chunk = r.get(..lt).unwrap_or("");
        if let Some(top) = stack.last_mut() {
            let t = unescape(chunk, &c)?;
            top.text.push_str(&t);
        } else if !chunk.trim().is_empty() {
            return Err(c.err("xml", "text outside the root element"));
        }
        c.advance(lt);
        if c.rest().is_empty() {
            break;
        }
        let r = c.rest();
        if r.starts_with("<?") {
            c.skip_past("?>", "processing instruction")?;
        } else if r.starts_with("<!--") {
            c.skip_past("-->", "comment")?;
        } else if r.starts_with("<![CDATA[") {
            c.advance(9);
            let line = c.line;
            let inner = c.skip_past("]]>", "CDATA section")?;
            match stack.last_mut() {
                Some(top) => top.text.push_str(inner),
                None => {
                    return Err(ParseError::new(file, "CDATA outside the root element")
                        .at_line(line)
                        .field("xml"));
                }
            }
        } else if r.starts_with("<!") {
            // Only up to the first '>' decides: scanning the whole rest for
            // '[' made every declaration cost the document's length.
            let gt = r.find('>').unwrap_or(r.len());
            let end = if r.get(..gt).is_some_and(|h| h.contains('[')) {
                "]>"
            } else {
                ">"
            };
            c.skip_past(end, "declaration")?;
        } else if r.starts_with("</") {
            c.advance(2);
            let name = local(c.name()).to_owned();
            c.skip_ws();
            if !c.rest().starts_with('>') {
                return Err(c.err("xml", format!("malformed end tag </{name}")));
            }
            c.advance(1);
            let Some(el) = stack.pop() else {
                return Err(c.err("xml", format!("end tag </{name}> without a start tag")));
            };
            if el.name != name {
                return Err(c.err(
                    "xml",
                    format!("</{name}> closes <{}> opened at line {}", el.name, el.line),
                ));
            }
            match stack.last_mut() {
                Some(parent) => parent.children.push(el),
                None => root = Some(el),
            }
        } else {
            c.advance(1);
            let line = c.line;
            let name = c.name();
            if name.is_empty() {
                return Err(c.err("xml", "'<' not followed by a tag name"));
            }
            if root.is_some() {
                return Err(c.err("xml", format!("<{name}> after the root element")));
            }
            if stack.len() >= MAX_DEPTH {
                return Err(c.err("xml", format!("elements nested deeper than {MAX_DEPTH}")));
            }
            n_elements += 1;
            if n_elements > MAX_ELEMENTS {
                return Err(c.err(
                    "xml",
                    format!("more than {MAX_ELEMENTS} elements; no instrument file has that many"),
                ));
            }
            let mut el = Element {
                name: local(name).to_owned(),
                line,
                ..Element::default()
            };
            let empty = loop {
                c.skip_ws();
                let r = c.rest();
                if r.starts_with("/>") {
                    c.advance(2);
                    break true;
                }
                if r.starts_with('>') {
                    c.advance(1);
                    break false;
                }
                let attr = c.name();
                c.skip_ws();
                if attr.is_empty() || !c.rest().starts_with('=') {
                    return Err(c.err("xml", format!("malformed attribute in <{name}>")));
                }
                c.advance(1);
                c.skip_ws();
                let q = c.rest().chars().next();
                let Some(q @ ('"' | '\'')) = q else {
                    return Err(c.err("xml", format!("attribute '{attr}' value not quoted")));
                };
                c.advance(1);
                let raw = c.skip_past(if q == '"' { "\"" } else { "'" }, "attribute value")?;
                el.attrs.push((local(attr).to_owned(), unescape(raw, &c)?));
            };
            if empty {
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            } else {
                stack.push(el);
            }
        }
    }
    if let Some(open) = stack.last() {
        return Err(c.err(
            "xml",
            format!(
                "document ends inside <{}> opened at line {}",
                open.name, open.line
            ),
        ));
    }
    root.ok_or_else(|| c.err("xml", "no root element"))
}
