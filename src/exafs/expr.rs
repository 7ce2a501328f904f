//! Parameter expressions ("2*sig2_1", "sqrt(n1)*s02", "sigma2_eins(t, theta)"):
//! parsed and compiled once into stack code over numbered variables, so a
//! model evaluation never touches text.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

pub use super::sigma2::{DebyeGeometry, EINS_FACTOR, sigma2_debye, sigma2_eins};
use crate::io::feff::FeffPath;

/// Why an expression could not be compiled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ExprError {
    pub expr: String,
    /// Byte offset in `expr` where the problem is.
    pub pos: usize,
    pub message: String,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} in expression '{}' at column {}",
            self.message,
            self.expr,
            self.pos + 1
        )
    }
}

/// Built-in functions: name, number of arguments.
const FUNCTIONS: &[(&str, usize)] = &[
    ("sqrt", 1),
    ("exp", 1),
    ("log", 1),
    ("ln", 1),
    ("log10", 1),
    ("sin", 1),
    ("cos", 1),
    ("tan", 1),
    ("asin", 1),
    ("acos", 1),
    ("atan", 1),
    ("abs", 1),
    ("min", 2),
    ("max", 2),
    ("atan2", 2),
    ("sigma2_eins", 2),
    ("sigma2_debye", 2),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    Sqrt,
    Exp,
    Ln,
    Log10,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Abs,
    Min,
    Max,
    Atan2,
    /// Einstein-model σ² (needs the path's reduced mass from the context).
    Sigma2Eins,
    /// Correlated Debye σ² (needs the path's atoms from the context).
    Sigma2Debye,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Const(f64),
    Var(usize),
    /// A per-path quantity supplied at evaluation time (reff, degen…).
    Ctx(usize),
    Neg,
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Call(Func),
}

/// Evaluation stack depth; deeper expressions are rejected at compile time.
const STACK: usize = 64;

/// Names of the per-path context values an expression may use.
pub const CONTEXT: &[&str] = &["reff", "degen"];

/// Per-path values for [`CONTEXT`] plus what the σ² models need. The
/// default (no path) makes `sigma2_eins` and `sigma2_debye` evaluate to 0, as
/// Larch does for a path without FEFF data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PathContext {
    pub reff_ang: f64,
    pub degen: f64,
    /// Reduced mass of the path, amu.
    pub rmass_amu: f64,
    /// The path's atoms for `sigma2_debye` (shared: contexts are cloned per evaluation set).
    pub debye: Option<Arc<DebyeGeometry>>,
}

impl PathContext {
    /// Context of a FEFF path: reff, degeneracy, reduced mass and atoms.
    pub fn from_feff(path: &FeffPath) -> PathContext {
        PathContext {
            reff_ang: path.reff_ang,
            degen: path.degen,
            rmass_amu: super::path::reduced_mass_amu(path),
            debye: Some(Arc::new(DebyeGeometry::from_feff(path))),
        }
    }
}

/// A compiled expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub text: String,
    code: Vec<Op>,
    /// Variables it reads (indices into the caller's name table).
    pub deps: Vec<usize>,
}

impl Expr {
    /// Compile `text`; `vars` maps every parameter name that may appear to its index.
    pub fn compile(text: &str, vars: &HashMap<String, usize>) -> Result<Expr, ExprError> {
        let mut p = Parser {
            s: text.as_bytes(),
            text,
            pos: 0,
            vars,
            code: Vec::new(),
            deps: Vec::new(),
            nest: 0,
        };
        p.expr(0)?;
        p.skip_ws();
        if p.pos < p.s.len() {
            return Err(p.err("unexpected text"));
        }
        if p.code.is_empty() {
            return Err(p.err("empty expression"));
        }
        p.deps.sort_unstable();
        p.deps.dedup();
        let mut depth = 0usize;
        let mut max_depth = 0usize;
        for op in &p.code {
            match op {
                Op::Const(_) | Op::Var(_) | Op::Ctx(_) => depth += 1,
                Op::Neg
                | Op::Call(
                    Func::Sqrt
                    | Func::Exp
                    | Func::Ln
                    | Func::Log10
                    | Func::Sin
                    | Func::Cos
                    | Func::Tan
                    | Func::Asin
                    | Func::Acos
                    | Func::Atan
                    | Func::Abs,
                ) => {}
                _ => depth = depth.saturating_sub(1),
            }
            max_depth = max_depth.max(depth);
        }
        if max_depth > STACK {
            return Err(ExprError {
                expr: text.to_string(),
                pos: 0,
                message: "expression nested too deeply".into(),
            });
        }
        Ok(Expr {
            text: text.to_string(),
            code: p.code,
            deps: p.deps,
        })
    }

    /// Evaluate with variable values `vals` (indexed as at compile time).
    pub fn eval(&self, vals: &[f64], ctx: &PathContext) -> f64 {
        let mut stack = [0.0f64; STACK];
        let mut sp = 0usize;
        for op in &self.code {
            match *op {
                Op::Const(c) => {
                    stack[sp] = c;
                    sp += 1;
                }
                Op::Var(i) => {
                    stack[sp] = vals.get(i).copied().unwrap_or(f64::NAN);
                    sp += 1;
                }
                Op::Ctx(i) => {
                    stack[sp] = if i == 0 { ctx.reff_ang } else { ctx.degen };
                    sp += 1;
                }
                Op::Neg => stack[sp - 1] = -stack[sp - 1],
                Op::Call(f)
                    if matches!(
                        f,
                        Func::Min | Func::Max | Func::Atan2 | Func::Sigma2Eins | Func::Sigma2Debye
                    ) =>
                {
                    let (a, b) = (stack[sp - 2], stack[sp - 1]);
                    sp -= 1;
                    stack[sp - 1] = match f {
                        Func::Min => a.min(b),
                        Func::Max => a.max(b),
                        Func::Atan2 => a.atan2(b),
                        Func::Sigma2Eins if ctx.rmass_amu > 0.0 => sigma2_eins(a, b, ctx.rmass_amu),
                        Func::Sigma2Debye => ctx.debye.as_ref().map_or(0.0, |g| g.sigma2(a, b)),
                        _ => 0.0,
                    };
                }
                Op::Call(f) => {
                    let a = stack[sp - 1];
                    stack[sp - 1] = match f {
                        Func::Sqrt => a.sqrt(),
                        Func::Exp => a.exp(),
                        Func::Ln => a.ln(),
                        Func::Log10 => a.log10(),
                        Func::Sin => a.sin(),
                        Func::Cos => a.cos(),
                        Func::Tan => a.tan(),
                        Func::Asin => a.asin(),
                        Func::Acos => a.acos(),
                        Func::Atan => a.atan(),
                        _ => a.abs(),
                    };
                }
                bin => {
                    let (a, b) = (stack[sp - 2], stack[sp - 1]);
                    sp -= 1;
                    stack[sp - 1] = match bin {
                        Op::Add => a + b,
                        Op::Sub => a - b,
                        Op::Mul => a * b,
                        Op::Div => a / b,
                        _ => a.powf(b),
                    };
                }
            }
        }
        stack[0]
    }
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    vars: &'a HashMap<String, usize>,
    code: Vec<Op>,
    deps: Vec<usize>,
    /// Current recursion depth, bounded so hostile input cannot overflow the stack.
    nest: usize,
}

impl Parser<'_> {
    fn err(&self, msg: impl Into<String>) -> ExprError {
        ExprError {
            expr: self.text.to_string(),
            pos: self.pos.min(self.text.len()),
            message: msg.into(),
        }
    }

    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.pos).copied()
    }

    /// The stack machine has a fixed depth: keep expressions within it.
    fn push(&mut self, op: Op) -> Result<(), ExprError> {
        if self.code.len() > 4096 {
            return Err(self.err("expression too long"));
        }
        self.code.push(op);
        Ok(())
    }

    /// Precedence climbing: + − (1), * / (2), unary − (3), ** ^ (4, right-assoc).
    fn expr(&mut self, min_prec: u8) -> Result<(), ExprError> {
        self.nest += 1;
        if self.nest > 64 {
            return Err(self.err("expression nested too deeply"));
        }
        self.unary(0)?;
        while let Some(c) = self.peek() {
            let (op, prec, len, right) = match c {
                b'+' => (Op::Add, 1, 1, false),
                b'-' => (Op::Sub, 1, 1, false),
                b'*' if self.s.get(self.pos + 1) == Some(&b'*') => (Op::Pow, 4, 2, true),
                b'*' => (Op::Mul, 2, 1, false),
                b'/' => (Op::Div, 2, 1, false),
                b'^' => (Op::Pow, 4, 1, true),
                _ => break,
            };
            if prec < min_prec {
                break;
            }
            self.pos += len;
            self.expr(if right { prec } else { prec + 1 })?;
            self.push(op)?;
        }
        self.nest -= 1;
        Ok(())
    }

    fn unary(&mut self, depth: usize) -> Result<(), ExprError> {
        if depth > 64 {
            return Err(self.err("expression nested too deeply"));
        }
        match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                // −x**2 is −(x**2), as in Python: the operand takes powers only.
                self.unary_operand(depth + 1)?;
                self.push(Op::Neg)
            }
            Some(b'+') => {
                self.pos += 1;
                self.unary(depth + 1)
            }
            _ => self.primary(depth),
        }
    }

    /// An operand of unary minus: a primary followed only by powers.
    fn unary_operand(&mut self, depth: usize) -> Result<(), ExprError> {
        if depth > 64 {
            return Err(self.err("expression nested too deeply"));
        }
        self.unary(depth)?;
        while self.peek() == Some(b'^')
            || (self.peek() == Some(b'*') && self.s.get(self.pos + 1) == Some(&b'*'))
        {
            self.pos += if self.s[self.pos] == b'^' { 1 } else { 2 };
            self.expr(4)?;
            self.push(Op::Pow)?;
        }
        Ok(())
    }

    fn primary(&mut self, depth: usize) -> Result<(), ExprError> {
        let Some(c) = self.peek() else {
            return Err(self.err("expression ends too early"));
        };
        if c == b'(' {
            self.pos += 1;
            if depth > 64 {
                return Err(self.err("expression nested too deeply"));
            }
            self.expr(0)?;
            if self.peek() != Some(b')') {
                return Err(self.err("missing ')'"));
            }
            self.pos += 1;
            return Ok(());
        }
        if c.is_ascii_digit() || c == b'.' {
            let start = self.pos;
            while self.pos < self.s.len()
                && (self.s[self.pos].is_ascii_digit() || self.s[self.pos] == b'.')
            {
                self.pos += 1;
            }
            if self.pos < self.s.len() && (self.s[self.pos] == b'e' || self.s[self.pos] == b'E') {
                let save = self.pos;
                self.pos += 1;
                if self.pos < self.s.len() && (self.s[self.pos] == b'+' || self.s[self.pos] == b'-')
                {
                    self.pos += 1;
                }
                if self.pos < self.s.len() && self.s[self.pos].is_ascii_digit() {
                    while self.pos < self.s.len() && self.s[self.pos].is_ascii_digit() {
                        self.pos += 1;
                    }
                } else {
                    self.pos = save;
                }
            }
            let tok = &self.text[start..self.pos];
            let v: f64 = tok.parse().map_err(|_| ExprError {
                expr: self.text.to_string(),
                pos: start,
                message: format!("bad number '{tok}'"),
            })?;
            return self.push(Op::Const(v));
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = self.pos;
            while self.pos < self.s.len()
                && (self.s[self.pos].is_ascii_alphanumeric() || self.s[self.pos] == b'_')
            {
                self.pos += 1;
            }
            let name = &self.text[start..self.pos];
            if self.peek() == Some(b'(') {
                let Some(&(_, nargs)) = FUNCTIONS.iter().find(|(n, _)| *n == name) else {
                    return Err(ExprError {
                        expr: self.text.to_string(),
                        pos: start,
                        message: format!("unknown function '{name}'"),
                    });
                };
                self.pos += 1;
                for a in 0..nargs {
                    self.expr(0)?;
                    let want = if a + 1 < nargs { b',' } else { b')' };
                    if self.peek() != Some(want) {
                        return Err(
                            self.err(format!("function '{name}' takes {nargs} argument(s)"))
                        );
                    }
                    self.pos += 1;
                }
                let f = match name {
                    "sqrt" => Func::Sqrt,
                    "exp" => Func::Exp,
                    "log" | "ln" => Func::Ln,
                    "log10" => Func::Log10,
                    "sin" => Func::Sin,
                    "cos" => Func::Cos,
                    "tan" => Func::Tan,
                    "asin" => Func::Asin,
                    "acos" => Func::Acos,
                    "atan" => Func::Atan,
                    "abs" => Func::Abs,
                    "min" => Func::Min,
                    "max" => Func::Max,
                    "atan2" => Func::Atan2,
                    "sigma2_eins" => Func::Sigma2Eins,
                    _ => Func::Sigma2Debye,
                };
                return self.push(Op::Call(f));
            }
            if name == "pi" {
                return self.push(Op::Const(std::f64::consts::PI));
            }
            if let Some(i) = CONTEXT.iter().position(|c| *c == name) {
                return self.push(Op::Ctx(i));
            }
            let Some(&i) = self.vars.get(name) else {
                return Err(ExprError {
                    expr: self.text.to_string(),
                    pos: start,
                    message: format!("unknown parameter '{name}'"),
                });
            };
            self.deps.push(i);
            return self.push(Op::Var(i));
        }
        Err(self.err(format!("unexpected '{}'", c as char)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> HashMap<String, usize> {
        ["n1", "s02", "sig2_1", "t", "theta"]
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), i))
            .collect()
    }

    fn ev(text: &str) -> f64 {
        let e = Expr::compile(text, &vars()).unwrap_or_else(|e| panic!("{e}"));
        e.eval(
            &[6.0, 0.9, 0.003, 300.0, 250.0],
            &PathContext {
                reff_ang: 2.5,
                degen: 12.0,
                rmass_amu: 31.77,
                debye: Some(Arc::new(DebyeGeometry::new(
                    vec![[0.0; 3], [-1.8016, 0.0, 1.8016]],
                    vec![63.546, 63.546],
                    2.63,
                ))),
            },
        )
    }

    #[test]
    fn arithmetic_and_precedence_follow_python() {
        assert_eq!(ev("1 + 2*3"), 7.0);
        assert_eq!(ev("(1 + 2)*3"), 9.0);
        assert_eq!(ev("2**3**2"), 512.0);
        assert_eq!(ev("-2**2"), -4.0);
        assert_eq!(ev("2^3"), 8.0);
        assert_eq!(ev("10/4 - 1"), 1.5);
        assert!((ev("1.5e-3*2") - 0.003).abs() < 1e-18);
    }

    #[test]
    fn variables_context_and_functions() {
        assert!((ev("s02*n1") - 5.4).abs() < 1e-12);
        assert!((ev("2*sig2_1") - 0.006).abs() < 1e-15);
        assert_eq!(ev("reff*degen"), 30.0);
        assert!((ev("sqrt(n1)*exp(0)") - 6f64.sqrt()).abs() < 1e-15);
        assert_eq!(ev("max(n1, 7) + min(1, s02)"), 7.9);
        assert!((ev("cos(pi)") + 1.0).abs() < 1e-15);
    }

    #[test]
    fn einstein_sigma2_matches_larch() {
        // Larch: sigma2_eins(300, 250, path) for a Cu–Cu path (rmass = 63.546/2 amu).
        let s = sigma2_eins(300.0, 250.0, 63.546 / 2.0);
        let expect = EINS_FACTOR / (250.0 * 31.773 * (250.0f64 / 600.0).tanh());
        assert!((s - expect).abs() < 1e-15);
        assert!((ev("sigma2_eins(t, theta)") - sigma2_eins(300.0, 250.0, 31.77)).abs() < 1e-15);
    }

    #[test]
    fn debye_sigma2_uses_the_context_geometry() {
        // Larch sigma2_debye(300, 250, feffpath('feff/cu/feff0001.dat')) geometry.
        let s = ev("sigma2_debye(t, theta)");
        let g = DebyeGeometry::new(
            vec![[0.0; 3], [-1.8016, 0.0, 1.8016]],
            vec![63.546, 63.546],
            2.63,
        );
        assert_eq!(s, sigma2_debye(300.0, 250.0, &g));
        assert!(s > 0.005 && s < 0.02, "{s}");
    }

    #[test]
    fn sigma2_models_without_a_path_are_zero() {
        for text in ["sigma2_debye(t, theta)", "sigma2_eins(t, theta)"] {
            let e = Expr::compile(text, &vars()).expect("compiles");
            let v = e.eval(&[6.0, 0.9, 0.003, 300.0, 250.0], &PathContext::default());
            assert_eq!(v, 0.0, "{text}");
        }
        assert!(Expr::compile("sigma2_debye(t)", &vars()).is_err());
    }

    #[test]
    fn errors_name_the_problem() {
        let e = Expr::compile("2*sig2_3", &vars()).expect_err("unknown name");
        assert_eq!(e.message, "unknown parameter 'sig2_3'");
        assert_eq!(e.pos, 2);
        assert!(Expr::compile("sqrt(1, 2)", &vars()).is_err());
        assert!(
            Expr::compile("foo(1)", &vars())
                .expect_err("fn")
                .message
                .contains("unknown function 'foo'")
        );
        assert!(
            Expr::compile("(1+2", &vars())
                .expect_err("paren")
                .message
                .contains("missing ')'")
        );
        assert!(Expr::compile("", &vars()).is_err());
        assert!(Expr::compile("1 +", &vars()).is_err());
        assert!(Expr::compile(&"(".repeat(200), &vars()).is_err());
    }

    #[test]
    fn deep_nesting_never_overflows() {
        assert!(Expr::compile(&"(".repeat(100_000), &vars()).is_err());
        assert!(Expr::compile(&"-".repeat(100_000), &vars()).is_err());
        for n in [10, 40, 63, 70, 200] {
            let text = "1+(".repeat(n) + "1" + &")".repeat(n);
            if let Ok(e) = Expr::compile(&text, &vars()) {
                assert_eq!(e.eval(&[], &PathContext::default()), (n + 1) as f64);
            }
        }
        let long = vec!["n1"; 3000].join("+");
        assert!(Expr::compile(&long, &vars()).is_err() || ev(&long) == 18000.0);
    }

    #[test]
    fn dependencies_are_listed() {
        let e = Expr::compile("s02*n1 + n1", &vars()).expect("compiles");
        assert_eq!(e.deps, vec![0, 1]);
    }
}
