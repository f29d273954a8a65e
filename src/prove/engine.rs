//! The computer-algebra engine: Symbolica, on one thread, behind plain data.
//!
//! Symbolica's unlicensed runtime aborts the process when a second thread, or a second
//! process of the same user, uses it at the same time. So:
//! - every Symbolica call runs on one engine thread that the process starts once and keeps;
//!   callers send a [`Term`] (our type) and get strings and booleans back;
//! - before that thread starts, the process takes an advisory lock on a file in the system
//!   temp dir, and waits (saying so on stderr) while another derivcheck process holds it.
//!
//! Architecture invariant: this is the only file that imports `symbolica`, and no Symbolica
//! type appears in its public items.

use std::collections::HashMap;
use std::fs::File;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, OnceLock};

use num_rational::BigRational;
use symbolica::atom::{Atom, AtomCore};
use symbolica::parse;

/// An expression for the engine: commutative sums and products, powers, numbers, symbols and
/// function applications. Function arguments keep their order, which is how ordered (matrix)
/// products are represented by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Term {
    Num(BigRational),
    Sym(String),
    Fn(String, Vec<Term>),
    Add(Vec<Term>),
    Mul(Vec<Term>),
    Pow(Box<Term>, Box<Term>),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("the algebra engine failed on this expression: {0}")]
    Failed(String),
    #[error("the algebra engine is not running: {0}")]
    Unavailable(String),
}

enum Request {
    /// Canonical forms, as printed text (names as the caller gave them).
    Canonical(Vec<Term>),
    /// Whether `a - b` normalizes to zero; and the normalized difference.
    Difference(Term, Term),
}

enum Reply {
    Canonical(Vec<String>),
    Difference(bool, String),
}

type Job = (Request, Sender<Result<Reply, EngineError>>);

/// A handle to the process's one engine thread. Cheap to share between threads.
pub struct Engine {
    jobs: Mutex<Sender<Job>>,
    /// Held for the life of the process: the advisory cross-process lock.
    _lock: Option<File>,
}

static ENGINE: OnceLock<Result<Engine, EngineError>> = OnceLock::new();

/// The engine, started on first use.
pub fn engine() -> Result<&'static Engine, EngineError> {
    ENGINE.get_or_init(Engine::start).as_ref().map_err(|e| e.clone())
}

impl Engine {
    fn start() -> Result<Engine, EngineError> {
        let lock = take_process_lock();
        let (tx, rx) = channel::<Job>();
        std::thread::Builder::new()
            .name("derivcheck-engine".into())
            .spawn(move || {
                let mut names = Names::default();
                for (request, reply) in rx {
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| names.run(request)))
                        .unwrap_or_else(|p| Err(EngineError::Failed(panic_text(p))));
                    let _ = reply.send(result);
                }
            })
            .map_err(|e| EngineError::Unavailable(e.to_string()))?;
        Ok(Engine { jobs: Mutex::new(tx), _lock: lock })
    }

    fn call(&self, request: Request) -> Result<Reply, EngineError> {
        let (tx, rx) = channel();
        self.jobs
            .lock()
            .map_err(|_| EngineError::Unavailable("engine handle poisoned".into()))?
            .send((request, tx))
            .map_err(|_| EngineError::Unavailable("engine thread ended".into()))?;
        rx.recv().map_err(|_| EngineError::Unavailable("engine thread ended".into()))?
    }

    /// Canonical forms of several terms; equal strings mean equal expressions.
    pub fn canonical(&self, terms: Vec<Term>) -> Result<Vec<String>, EngineError> {
        match self.call(Request::Canonical(terms))? {
            Reply::Canonical(v) => Ok(v),
            Reply::Difference(..) => unreachable!("reply matches request"),
        }
    }

    /// Whether `a - b` is zero after normalization, and the normalized `a - b` as text.
    pub fn difference(&self, a: Term, b: Term) -> Result<(bool, String), EngineError> {
        match self.call(Request::Difference(a, b))? {
            Reply::Difference(zero, text) => Ok((zero, text)),
            Reply::Canonical(_) => unreachable!("reply matches request"),
        }
    }
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

/// Takes the advisory lock; waits with a message while another process holds it. Without a
/// usable temp dir the engine still starts (one process alone is always fine).
fn take_process_lock() -> Option<File> {
    let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
    let path = std::env::temp_dir().join(format!("derivcheck-symbolica-{user}.lock"));
    let file = File::options().create(true).truncate(false).write(true).open(&path).ok()?;
    if file.try_lock().is_err() {
        eprintln!(
            "derivcheck: waiting for another derivcheck process to finish (Symbolica's unlicensed runtime allows one at a time; lock: {})",
            path.display()
        );
        file.lock().ok()?;
    }
    Some(file)
}

/// Maps caller names to identifiers Symbolica reads as plain symbols, and back.
#[derive(Default)]
struct Names {
    to_engine: HashMap<String, String>,
    from_engine: HashMap<String, String>,
}

/// Names Symbolica gives a meaning of its own; caller names equal to these are renamed.
const RESERVED: &[&str] = &["exp", "log", "sin", "cos", "sqrt", "der", "abs", "conj", "pi", "e", "i", "E", "I"];
/// Functions the caller may use with Symbolica's meaning.
const BUILTIN: &[&str] = &["exp", "log", "sqrt"];

impl Names {
    fn run(&mut self, request: Request) -> Result<Reply, EngineError> {
        match request {
            Request::Canonical(terms) => {
                let mut out = Vec::with_capacity(terms.len());
                for t in &terms {
                    let atom = self.normal(t)?;
                    out.push(self.back(&atom.to_string()));
                }
                Ok(Reply::Canonical(out))
            }
            Request::Difference(a, b) => {
                let diff = Term::Add(vec![a, Term::Mul(vec![Term::Num(BigRational::from_integer((-1).into())), b])]);
                let atom = self.normal(&diff)?;
                Ok(Reply::Difference(atom.is_zero(), self.back(&atom.to_string())))
            }
        }
    }

    /// Function arguments are normalized first, so `f(2*(x+1))` and `f(2*x+2)` agree.
    fn normal(&mut self, term: &Term) -> Result<Atom, EngineError> {
        let text = self.text(term)?;
        let atom = parse!(&text);
        Ok(atom.expand().together().expand_num())
    }

    fn text(&mut self, term: &Term) -> Result<String, EngineError> {
        Ok(match term {
            Term::Num(n) => format!("({})", n),
            Term::Sym(s) => self.name(s, false),
            Term::Fn(f, args) => {
                let mut parts = Vec::with_capacity(args.len());
                for a in args {
                    parts.push(format!("({})", self.normal(a)?));
                }
                format!("{}({})", self.name(f, true), parts.join(","))
            }
            Term::Add(xs) if xs.is_empty() => "0".into(),
            Term::Mul(xs) if xs.is_empty() => "1".into(),
            Term::Add(xs) => self.join(xs, "+")?,
            Term::Mul(xs) => self.join(xs, "*")?,
            Term::Pow(b, e) => format!("({})^({})", self.text(b)?, self.text(e)?),
        })
    }

    fn join(&mut self, xs: &[Term], op: &str) -> Result<String, EngineError> {
        let mut parts = Vec::with_capacity(xs.len());
        for x in xs {
            parts.push(format!("({})", self.text(x)?));
        }
        Ok(parts.join(op))
    }

    fn name(&mut self, name: &str, function: bool) -> String {
        if function && BUILTIN.contains(&name) {
            return name.to_string();
        }
        if let Some(n) = self.to_engine.get(name) {
            return n.clone();
        }
        let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric())
            && !name.starts_with("zz")
            && !RESERVED.contains(&name);
        let engine_name = if plain { name.to_string() } else { format!("zz{}", self.to_engine.len()) };
        self.to_engine.insert(name.to_string(), engine_name.clone());
        self.from_engine.insert(engine_name.clone(), name.to_string());
        engine_name
    }

    /// Printed engine text with renamed identifiers turned back into the caller's names.
    fn back(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut word = String::new();
        for c in text.chars().chain(std::iter::once(' ')) {
            if c.is_ascii_alphanumeric() || c == '_' {
                word.push(c);
            } else {
                if !word.is_empty() {
                    out.push_str(self.from_engine.get(&word).map_or(word.as_str(), |s| s.as_str()));
                    word.clear();
                }
                out.push(c);
            }
        }
        out.pop();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(s: &str) -> Term {
        Term::Sym(s.into())
    }

    fn int(n: i64) -> Term {
        Term::Num(BigRational::from_integer(n.into()))
    }

    #[test]
    fn normal_forms_agree_on_equal_polynomials_and_fractions() {
        let e = engine().unwrap();
        // (1-b)*x/(1-b) = x
        let a = Term::Mul(vec![
            Term::Add(vec![int(1), Term::Mul(vec![int(-1), sym("b")])]),
            sym("x"),
            Term::Pow(Box::new(Term::Add(vec![int(1), Term::Mul(vec![int(-1), sym("b")])])), Box::new(int(-1))),
        ]);
        assert!(e.difference(a, sym("x")).unwrap().0);
        let (zero, text) = e.difference(Term::Mul(vec![int(2), sym("x")]), sym("x")).unwrap();
        assert!(!zero);
        assert_eq!(text, "x");
    }

    #[test]
    fn function_arguments_are_normalized_and_order_is_kept() {
        let e = engine().unwrap();
        let f1 = Term::Fn("f".into(), vec![Term::Mul(vec![int(2), Term::Add(vec![sym("x"), int(1)])])]);
        let f2 = Term::Fn("f".into(), vec![Term::Add(vec![Term::Mul(vec![int(2), sym("x")]), int(2)])]);
        assert!(e.difference(f1, f2).unwrap().0);
        let ab = Term::Fn("mm".into(), vec![sym("A"), sym("B")]);
        let ba = Term::Fn("mm".into(), vec![sym("B"), sym("A")]);
        assert!(!e.difference(ab, ba).unwrap().0);
    }

    #[test]
    fn reserved_and_odd_names_round_trip() {
        let e = engine().unwrap();
        let forms = e.canonical(vec![Term::Add(vec![sym("e"), sym("x_1"), sym("zz0")])]).unwrap();
        assert!(forms[0].contains('e') && forms[0].contains("x_1") && forms[0].contains("zz0"), "{}", forms[0]);
    }

    #[test]
    fn many_threads_share_the_engine_without_aborting() {
        let handles: Vec<_> = (0..8)
            .map(|k| {
                std::thread::spawn(move || {
                    for j in 0..25 {
                        let x = Term::Add(vec![sym("x"), int(k * 100 + j)]);
                        let sq = Term::Pow(Box::new(x.clone()), Box::new(int(2)));
                        let expanded = Term::Add(vec![
                            Term::Pow(Box::new(sym("x")), Box::new(int(2))),
                            Term::Mul(vec![int(2 * (k * 100 + j)), sym("x")]),
                            int((k * 100 + j) * (k * 100 + j)),
                        ]);
                        assert!(engine().unwrap().difference(sq, expanded).unwrap().0);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}
