//! The Perl `Data::Dumper` form of Athena projects, read by a small parser
//! for the literal-data subset Athena writes. Nothing is ever evaluated: a
//! function call, a `do {}` block or any other code is reported, located,
//! as "not plain data".
//!
//! Longer than Carto's ~800 lines on purpose: it is one recursive-descent
//! parser (the `Parser` type and the entry points that drive it) whose
//! methods call one another; split across files the grammar could no longer
//! be read top to bottom.

use std::cell::Cell;

use super::{AthenaGroup, AthenaProject, AthenaValue, parse_number};
use crate::io::{ParseError, fastnum};

/// Nesting deeper than this is not something Athena writes; refusing it
/// keeps a hostile file from overflowing the stack.
const MAX_DEPTH: usize = 64;

/// Statements whose values carry the data: they must parse or the file is
/// rejected. Everything else is decoration and is skipped when it is not
/// plain data.
const ARRAY_STATEMENTS: [&str; 5] = ["x", "y", "i0", "signal", "stddev"];

/// A parsed Perl literal.
#[derive(Debug, Clone, PartialEq)]
enum PerlValue {
    Str(String),
    Num(f64),
    Undef,
    List(Vec<PerlValue>),
}

impl PerlValue {
    /// `undef` has no Athena meaning: it is dropped (Perl's `defined`).
    fn into_athena(self) -> Option<AthenaValue> {
        match self {
            PerlValue::Str(s) => Some(AthenaValue::Str(s)),
            PerlValue::Num(v) => Some(AthenaValue::Num(v)),
            PerlValue::Undef => None,
            PerlValue::List(l) => Some(AthenaValue::List(
                l.into_iter().filter_map(PerlValue::into_athena).collect(),
            )),
        }
    }
    fn as_key(&self) -> Option<String> {
        match self {
            PerlValue::Str(s) => Some(s.clone()),
            PerlValue::Num(v) => Some(v.to_string()),
            _ => None,
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    /// `(position, 1-based line there)` of the last line look-up: lines are
    /// counted only when asked for (statement starts, errors), from there.
    line_cache: Cell<(usize, usize)>,
    file: &'a str,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, file: &'a str) -> Self {
        Parser {
            text,
            b: text.as_bytes(),
            pos: 0,
            line_cache: Cell::new((0, 1)),
            file,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// Move to `new` (never past the end).
    fn advance_to(&mut self, new: usize) {
        self.pos = new.min(self.b.len());
    }

    /// 1-based line of the current position.
    fn line(&self) -> usize {
        let (p0, l0) = self.line_cache.get();
        let (p0, l0) = if p0 <= self.pos { (p0, l0) } else { (0, 1) };
        let n = self
            .b
            .get(p0..self.pos)
            .map_or(0, |s| memchr::memchr_iter(b'\n', s).count());
        self.line_cache.set((self.pos, l0 + n));
        l0 + n
    }

    fn bump(&mut self) {
        self.advance_to(self.pos + 1);
    }

    fn err(&self, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.file, msg).at_line(self.line())
    }

    fn skip_ws(&mut self) {
        let n = self.b.get(self.pos..).map_or(0, |s| {
            s.iter().take_while(|c| c.is_ascii_whitespace()).count()
        });
        self.advance_to(self.pos + n);
    }

    /// The rest of the current line (without the newline); moves past it.
    fn rest_of_line(&mut self) -> &'a str {
        let start = self.pos;
        let end = self
            .b
            .get(start..)
            .and_then(|s| s.iter().position(|&c| c == b'\n'))
            .map_or(self.b.len(), |i| start + i);
        let out = self.text.get(start..end).map_or("", |v| v);
        self.advance_to(end + 1);
        out
    }

    fn starts_with(&self, s: &str) -> bool {
        self.b
            .get(self.pos..)
            .is_some_and(|r| r.starts_with(s.as_bytes()))
    }

    fn ident(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let n = self.b.get(start..).map_or(0, |s| {
            s.iter()
                .enumerate()
                .take_while(|(i, c)| {
                    c.is_ascii_alphabetic() || **c == b'_' || (*i > 0 && c.is_ascii_digit())
                })
                .count()
        });
        if n == 0 {
            return None;
        }
        self.advance_to(start + n);
        self.text.get(start..start + n)
    }

    fn eat(&mut self, c: u8, what: &str) -> Result<(), ParseError> {
        self.skip_ws();
        match self.peek() {
            Some(x) if x == c => {
                self.bump();
                Ok(())
            }
            Some(x) => Err(self.err(format!("wanted {what}, found '{}'", x as char))),
            None => Err(self.err(format!(
                "end of file reached, wanted {what} (file truncated?)"
            ))),
        }
    }

    /// Byte range of the body of a single-quoted string at `pos` that has
    /// no escapes and no line break, for parsing without a copy.
    fn plain_quoted(&self) -> Option<(usize, usize)> {
        let start = self.pos + 1;
        let rest = self.b.get(start..)?;
        let i = rest
            .iter()
            .position(|&c| matches!(c, b'\'' | b'\\' | b'\n'))?;
        (rest.get(i) == Some(&b'\'')).then_some((start, start + i))
    }

    /// A single-quoted string: only `\\` and `\'` are escapes in Perl.
    fn single_quoted(&mut self) -> Result<String, ParseError> {
        let start_line = self.line();
        self.bump();
        let start = self.pos;
        let rest = self.b.get(start..).map_or(&[][..], |b| b);
        let mut out: Option<String> = None;
        let mut i = 0;
        while let Some(&c) = rest.get(i) {
            match c {
                b'\'' => {
                    let s = match out {
                        Some(s) => s,
                        None => self
                            .text
                            .get(start..start + i)
                            .map_or("", |v| v)
                            .to_string(),
                    };
                    self.advance_to(start + i + 1);
                    return Ok(s);
                }
                b'\\' => {
                    let buf = out.get_or_insert_with(|| {
                        self.text
                            .get(start..start + i)
                            .map_or("", |v| v)
                            .to_string()
                    });
                    match rest.get(i + 1) {
                        Some(&q @ (b'\'' | b'\\')) => {
                            buf.push(q as char);
                            i += 2;
                        }
                        _ => {
                            buf.push('\\');
                            i += 1;
                        }
                    }
                    continue;
                }
                _ => {}
            }
            if let Some(buf) = out.as_mut() {
                // Copy the whole UTF-8 character starting here.
                let len = utf8_len(c);
                buf.push_str(self.text.get(start + i..start + i + len).map_or("", |v| v));
                i += len;
            } else {
                i += 1;
            }
        }
        Err(
            ParseError::new(self.file, "unterminated quoted string (file truncated?)")
                .at_line(start_line),
        )
    }

    /// A double-quoted string. Escapes are decoded; `$`/`@` are taken
    /// literally (interpolation would be evaluation).
    fn double_quoted(&mut self) -> Result<String, ParseError> {
        let start_line = self.line();
        self.bump();
        let start = self.pos;
        let rest = self.text.get(start..).map_or("", |v| v);
        let mut out = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.advance_to(start + i + 1);
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, '0')) => out.push('\0'),
                    Some((j, 'x')) => {
                        // \x{263A} or \xHH
                        let tail = rest.get(j + 1..).map_or("", |v| v);
                        let (hex, used) = if let Some(body) = tail.strip_prefix('{') {
                            let end = body.find('}').map_or(body.len(), |v| v);
                            (body.get(..end).map_or("", |v| v), end + 2)
                        } else {
                            let n = tail
                                .chars()
                                .take(2)
                                .take_while(char::is_ascii_hexdigit)
                                .count();
                            (tail.get(..n).map_or("", |v| v), n)
                        };
                        if let Some(ch) = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                        {
                            out.push(ch);
                        }
                        for _ in 0..used {
                            chars.next();
                        }
                    }
                    Some((_, other)) => out.push(other),
                    None => break,
                },
                other => out.push(other),
            }
        }
        Err(
            ParseError::new(self.file, "unterminated quoted string (file truncated?)")
                .at_line(start_line),
        )
    }

    fn number_token(&mut self) -> Result<f64, ParseError> {
        let start = self.pos;
        let n = self.b.get(start..).map_or(0, |s| {
            s.iter()
                .take_while(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.' | b'e' | b'E'))
                .count()
        });
        let tok = self.text.get(start..start + n).map_or("", |v| v);
        let v = parse_number(tok).ok_or_else(|| self.err(format!("'{tok}' is not a number")))?;
        self.advance_to(start + n);
        Ok(v)
    }

    /// Any literal value. Code is refused, naming what was found.
    fn value(&mut self, depth: usize) -> Result<PerlValue, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err("values nested too deeply"));
        }
        self.skip_ws();
        match self.peek() {
            None => Err(self.err("end of file reached where a value should be (file truncated?)")),
            Some(b'\'') => self.single_quoted().map(PerlValue::Str),
            Some(b'"') => self.double_quoted().map(PerlValue::Str),
            Some(b'(') => self.list(b')', depth),
            Some(b'[') => self.list(b']', depth),
            Some(b'{') => self.list(b'}', depth),
            Some(c) if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.') => {
                self.number_token().map(PerlValue::Num)
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let line = self.line();
                let word = self.ident().map_or("", |v| v);
                match word {
                    "undef" => Ok(PerlValue::Undef),
                    "bless" => {
                        // bless( VALUE, 'Class' ): the class is irrelevant.
                        self.eat(b'(', "'(' after bless")?;
                        let v = self.value(depth + 1)?;
                        self.eat(b',', "',' in bless(...)")?;
                        self.value(depth + 1)?;
                        self.eat(b')', "')' closing bless(...)")?;
                        Ok(v)
                    }
                    _ => {
                        self.skip_ws();
                        if self.starts_with("=>") {
                            // A bareword hash key.
                            Ok(PerlValue::Str(word.to_string()))
                        } else {
                            Err(ParseError::new(
                                self.file,
                                format!("'{word}' is not plain data (code is never evaluated)"),
                            )
                            .at_line(line))
                        }
                    }
                }
            }
            Some(c) => Err(self.err(format!("'{}' where a value should be", c as char))),
        }
    }

    /// `( … )`, `[ … ]` or `{ … }`: items separated by `,` or `=>`, with an
    /// optional trailing separator. Hashes flatten to key, value, … .
    fn list(&mut self, close: u8, depth: usize) -> Result<PerlValue, ParseError> {
        let open_line = self.line();
        self.bump();
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => {
                    return Err(ParseError::new(
                        self.file,
                        format!(
                            "list opened here is never closed with '{}' (file truncated?)",
                            close as char
                        ),
                    )
                    .at_line(open_line));
                }
                Some(c) if c == close => {
                    self.bump();
                    return Ok(PerlValue::List(items));
                }
                _ => {}
            }
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            if self.starts_with("=>") {
                self.advance_to(self.pos + 2);
            } else if self.peek() == Some(b',') {
                self.bump();
            } else if self.peek() != Some(close) {
                return Err(match self.peek() {
                    None => ParseError::new(
                        self.file,
                        format!(
                            "list opened here is never closed with '{}' (file truncated?)",
                            close as char
                        ),
                    )
                    .at_line(open_line),
                    Some(c) => self.err(format!(
                        "found '{1}' where ',' or '{0}' should be",
                        close as char, c as char
                    )),
                });
            }
        }
    }

    /// Fast path for the data arrays: `( '1.5', 2, … )` straight to f64,
    /// reporting the exact element that is not a number.
    fn f64_list(&mut self, name: &str, out: &mut Vec<f64>) -> Result<(), ParseError> {
        let open_line = self.line();
        let field = |i: usize| format!("@{name}[{i}]");
        self.skip_ws();
        if self.peek() != Some(b'(') {
            // Anything but a list (`@x = system(...)`) is refused by value().
            let v = self.value(0)?;
            return Err(self
                .err(format!("@{name} must be a list of numbers, found {v:?}"))
                .field(format!("@{name}")));
        }
        self.bump();
        if out.capacity() == 0 {
            // Athena writes each array on one line: size the vector from it.
            let rest = self.b.get(self.pos..).map_or(&[][..], |r| r);
            let line =
                memchr::memchr(b'\n', rest).map_or(rest, |i| rest.get(..i).map_or(rest, |l| l));
            out.reserve(memchr::memchr_iter(b',', line).count() + 1);
        }
        loop {
            self.skip_ws();
            self.plain_run(out);
            let i = out.len();
            if let Some(v) = self.quick_quoted() {
                out.push(v);
                self.list_separator(i, open_line, name)?;
                continue;
            }
            let v = match self.peek() {
                None => {
                    return Err(ParseError::new(
                        self.file,
                        "list is never closed with ')' (file truncated?)",
                    )
                    .at_line(open_line)
                    .field(format!("@{name}")));
                }
                Some(b')') => {
                    self.bump();
                    return Ok(());
                }
                Some(b'\'') if self.plain_quoted().is_some() => {
                    // Common case: '1.234' with no escapes, parsed in place.
                    let (start, end) = self.plain_quoted().map_or((0, 0), |r| r);
                    let tok = self.text.get(start..end).map_or("", |t| t);
                    let v = parse_number(tok).ok_or_else(|| {
                        self.err(format!("'{tok}' is not a number")).field(field(i))
                    })?;
                    self.advance_to(end + 1);
                    v
                }
                Some(q @ (b'\'' | b'"')) => {
                    let line = self.line();
                    let s = if q == b'\'' {
                        self.single_quoted()
                    } else {
                        self.double_quoted()
                    }
                    .map_err(|e| e.field(field(i)))?;
                    parse_number(&s).ok_or_else(|| {
                        ParseError::new(self.file, format!("'{s}' is not a number"))
                            .at_line(line)
                            .field(field(i))
                    })?
                }
                _ => match self.value(1).map_err(|e| e.field(field(i)))? {
                    PerlValue::Num(v) => v,
                    other => {
                        return Err(self
                            .err(format!("{other:?} is not a number"))
                            .field(field(i)));
                    }
                },
            };
            out.push(v);
            self.list_separator(i, open_line, name)?;
        }
    }

    /// End (just past the `)`) of the list at the current position when it
    /// holds only quoted decimals of a form that always parses to a finite
    /// number — `'[+-]D{1,200}[.D*][(e|E)[+-]D{1,2}]'` — separated as
    /// [`Self::f64_list`] accepts; `None` for anything else (the caller then
    /// parses the list for real, errors included). How arrays nobody asked
    /// for are stepped over without converting their numbers.
    fn plain_list_end(&self) -> Option<usize> {
        let b = self.b;
        let digits = |i: &mut usize| {
            let s = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - s
        };
        let ws = |i: &mut usize| {
            while b.get(*i).is_some_and(u8::is_ascii_whitespace) {
                *i += 1;
            }
        };
        let sign = |i: &mut usize| {
            if matches!(b.get(*i), Some(b'+' | b'-')) {
                *i += 1;
            }
        };
        let mut i = self.pos;
        if b.get(i) != Some(&b'(') {
            return None;
        }
        i += 1;
        loop {
            ws(&mut i);
            match b.get(i)? {
                b')' => return Some(i + 1),
                b'\'' => i += 1,
                _ => return None,
            }
            sign(&mut i);
            // At most 200 integer digits and a two-digit exponent: the
            // value is below 10^300, never infinite.
            if !(1..=200).contains(&digits(&mut i)) {
                return None;
            }
            if b.get(i) == Some(&b'.') {
                i += 1;
                digits(&mut i);
            }
            if matches!(b.get(i), Some(b'e' | b'E')) {
                i += 1;
                sign(&mut i);
                if !(1..=2).contains(&digits(&mut i)) {
                    return None;
                }
            }
            if b.get(i) != Some(&b'\'') {
                return None;
            }
            i += 1;
            ws(&mut i);
            match b.get(i)? {
                b',' => i += 1,
                b')' => return Some(i + 1),
                _ => return None,
            }
        }
    }

    /// The run of `'1.234',` elements from the current position (at an
    /// element start), converted in one tight loop. Stops before the first
    /// element that is not of that form or not followed by `,` or `)`, for
    /// the general code to read (or report) it; stops *at* the `)`.
    fn plain_run(&mut self, out: &mut Vec<f64>) {
        let b = self.b;
        let mut i = self.pos;
        while b.get(i) == Some(&b'\'') {
            let Some(rest) = b.get(i + 1..) else { break };
            let Some((v, n)) = fastnum::parse_prefix(rest) else {
                break;
            };
            if rest.get(n) != Some(&b'\'') {
                break;
            }
            let mut j = i + n + 2;
            while b.get(j).is_some_and(u8::is_ascii_whitespace) {
                j += 1;
            }
            match b.get(j) {
                Some(b',') => {
                    j += 1;
                    while b.get(j).is_some_and(u8::is_ascii_whitespace) {
                        j += 1;
                    }
                    out.push(v);
                    i = j;
                }
                Some(b')') => {
                    out.push(v);
                    i = j;
                    break;
                }
                _ => break,
            }
        }
        self.advance_to(i);
    }

    /// After element `i` of `@name`: step over a `,`, stop before `)`.
    fn list_separator(&mut self, i: usize, open_line: usize, name: &str) -> Result<(), ParseError> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.bump();
                Ok(())
            }
            Some(b')') => Ok(()),
            None => Err(ParseError::new(
                self.file,
                "list is never closed with ')' (file truncated?)",
            )
            .at_line(open_line)
            .field(format!("@{name}"))),
            Some(c) => Err(self
                .err(format!("found '{}' where ',' or ')' should be", c as char))
                .field(format!("@{name}[{}]", i + 1))),
        }
    }

    /// `'1.234'`: a quoted plain decimal (the bulk of every project),
    /// parsed in place with the exact fast path and stepped over; `None`
    /// (nothing moved) for anything else.
    fn quick_quoted(&mut self) -> Option<f64> {
        if self.peek() != Some(b'\'') {
            return None;
        }
        let rest = self.b.get(self.pos + 1..)?;
        let (v, n) = fastnum::parse_prefix(rest)?;
        if rest.get(n) != Some(&b'\'') {
            return None;
        }
        self.advance_to(self.pos + n + 2);
        Some(v)
    }

    /// Skip past the end of the line holding the current position: how a
    /// refused decorative statement is stepped over.
    fn skip_line(&mut self) {
        self.rest_of_line();
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Where each array statement of a group starts: `(name, byte offset)`.
pub(super) type ArrayPositions = Vec<(String, usize)>;

/// Parse the whole Perl dump into a project.
pub(super) fn read_perl(text: &str, file: &str) -> Result<AthenaProject, ParseError> {
    read_perl_with(text, file, true).map(|(p, _)| p)
}

/// The arrays of one group, from the positions [`read_perl_with`] recorded
/// (the statements parsed there already, so they parse the same again).
pub(super) fn read_arrays(
    text: &str,
    file: &str,
    positions: &[(String, usize)],
) -> Result<std::collections::BTreeMap<String, Vec<f64>>, ParseError> {
    let mut arrays = std::collections::BTreeMap::new();
    for (name, pos) in positions {
        let mut p = Parser::new(text, file);
        p.advance_to(*pos);
        let mut values = Vec::new();
        p.f64_list(name, &mut values)?;
        arrays.insert(name.clone(), values);
    }
    Ok(arrays)
}

/// Parse the whole Perl dump. With `keep_arrays` false every array is still
/// checked (stepped over when it is plainly valid, parsed otherwise, so a
/// damaged one fails exactly as in a full read) but not kept;
/// instead the start of each array statement is returned, per group in
/// file order, for [`read_arrays`].
pub(super) fn read_perl_with(
    text: &str,
    file: &str,
    keep_arrays: bool,
) -> Result<(AthenaProject, Vec<ArrayPositions>), ParseError> {
    let mut positions: Vec<ArrayPositions> = Vec::new();
    let mut current_positions: ArrayPositions = Vec::new();
    let mut scratch: Vec<f64> = Vec::new();
    let mut p = Parser::new(text, file);
    let mut project = AthenaProject {
        format: "perl".into(),
        ..Default::default()
    };
    let mut in_header = true;
    let mut current: Option<AthenaGroup> = None;
    let mut trailer = false;

    loop {
        p.skip_ws();
        let Some(c) = p.peek() else { break };
        let line = p.line();
        match c {
            b'#' => {
                let comment = p.rest_of_line();
                if in_header {
                    project
                        .header
                        .push(comment.trim_start_matches('#').trim().to_string());
                }
            }
            b'[' if p.starts_with("[record]") => {
                in_header = false;
                p.advance_to(p.pos + "[record]".len());
                // The rest of the line is a comment ("# create object …").
                let rest = p.rest_of_line().trim();
                if !rest.is_empty() && !rest.starts_with('#') {
                    return Err(ParseError::new(
                        file,
                        format!("stray text '{rest}' after [record]"),
                    )
                    .at_line(line)
                    .field("[record]"));
                }
                let mut group = current.take().ok_or_else(|| {
                    ParseError::new(
                        file,
                        "[record] without a preceding group ($old_group / @args / @x)",
                    )
                    .at_line(line)
                    .field("[record]")
                })?;
                if group.label.is_empty() {
                    group.label = group.id.clone();
                }
                project.groups.push(group);
                positions.push(std::mem::take(&mut current_positions));
            }
            b'$' | b'@' | b'%' => {
                in_header = false;
                p.bump();
                let name = p
                    .ident()
                    .ok_or_else(|| p.err("a variable name must follow the sigil"))?;
                let sigil = c as char;
                let full = format!("{sigil}{name}");
                p.eat(b'=', &format!("'=' after {full}"))
                    .map_err(|e| e.field(full.clone()))?;
                let is_data = matches!((sigil, name), ('$', "old_group") | ('@', "args"))
                    || (sigil == '@' && ARRAY_STATEMENTS.contains(&name));
                if sigil == '@' && ARRAY_STATEMENTS.contains(&name) {
                    let list_pos = p.pos;
                    let mut values = Vec::new();
                    if keep_arrays {
                        p.f64_list(name, &mut values)?;
                    } else {
                        p.skip_ws();
                        match p.plain_list_end() {
                            Some(end) => p.advance_to(end),
                            None => {
                                scratch.clear();
                                p.f64_list(name, &mut scratch)?;
                            }
                        }
                    }
                    p.eat(b';', &format!("';' ending {full}"))
                        .map_err(|e| e.field(full.clone()))?;
                    let g = current.get_or_insert_with(|| AthenaGroup {
                        line: Some(line),
                        ..Default::default()
                    });
                    if keep_arrays {
                        g.arrays.insert(name.to_string(), values);
                    } else {
                        current_positions.push((name.to_string(), list_pos));
                    }
                    continue;
                }
                let parsed = p
                    .value(0)
                    .and_then(|v| p.eat(b';', &format!("';' ending {full}")).map(|_| v))
                    .map_err(|e| e.field(full.clone()));
                let value = match parsed {
                    Ok(v) => v,
                    Err(e) if is_data => return Err(e),
                    Err(e) => {
                        project.warnings.push(format!("{e}; statement skipped"));
                        p.skip_line();
                        continue;
                    }
                };
                match (sigil, name) {
                    ('$', "old_group") => {
                        if let Some(prev) = &current {
                            return Err(ParseError::new(
                                file,
                                format!(
                                    "group '{}' (line {}) is not closed by [record] before the next $old_group",
                                    prev.id,
                                    prev.line.map_or(0, |v| v)
                                ),
                            )
                            .at_line(line)
                            .field("$old_group"));
                        }
                        let id = value.as_key().ok_or_else(|| {
                            ParseError::new(file, "group name must be a string")
                                .at_line(line)
                                .field(full.clone())
                        })?;
                        current = Some(AthenaGroup {
                            id,
                            line: Some(line),
                            ..Default::default()
                        });
                    }
                    ('@', "args") => {
                        let g = current.get_or_insert_with(|| AthenaGroup {
                            line: Some(line),
                            ..Default::default()
                        });
                        apply_args(g, value, file, line, &mut project.warnings);
                    }
                    ('@', "journal") => {
                        if let PerlValue::List(items) = value {
                            project.journal = items.iter().filter_map(PerlValue::as_key).collect();
                        }
                    }
                    // Plot settings, indicators, LCF state, XDI metadata:
                    // read as data to stay in step, then not kept.
                    _ => {}
                }
            }
            b'0'..=b'9' => {
                // The `1;` every Perl dump ends with.
                p.value(0)?;
                p.eat(b';', "';' after the trailing 1")?;
                trailer = true;
            }
            _ => {
                let text = p.rest_of_line();
                let shown: String = text.chars().take(40).collect();
                return Err(
                    ParseError::new(file, format!("not an Athena statement: '{shown}'"))
                        .at_line(line),
                );
            }
        }
    }
    if let Some(g) = current {
        return Err(ParseError::new(
            file,
            format!(
                "group '{}' is never closed by [record] (file truncated?)",
                g.id
            ),
        )
        .at_line(g.line.map_or(p.line(), |v| v))
        .field("[record]"));
    }
    if !trailer {
        project.warnings.push(format!(
            "{file}:{}: no closing '1;' (file may be truncated)",
            p.line()
        ));
    }
    Ok((project, positions))
}

/// `@args` is a flat key, value, … list.
fn apply_args(
    g: &mut AthenaGroup,
    value: PerlValue,
    file: &str,
    line: usize,
    warnings: &mut Vec<String>,
) {
    let PerlValue::List(items) = value else {
        warnings.push(format!("{file}:{line}: @args is not a list; ignored"));
        return;
    };
    if items.len() % 2 == 1 {
        warnings.push(format!(
            "line {line}: @args has an odd number of items; the last is ignored"
        ));
    }
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        let Some(key) = k.as_key() else { continue };
        if let Some(val) = v.into_athena() {
            g.params.insert(key, val);
        }
    }
    if let Some(label) = g.param_str("label") {
        g.label = label;
    }
}

#[cfg(test)]
mod tests;
